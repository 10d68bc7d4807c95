"""
Admin: orders' 1C state.

Managers see, per order, whether 1C has it (sent, acknowledged, at which version), what
1C reported back (number, posted, paid, shipped, cancelled, status) and can send an
order again («Отправить в 1С повторно»: its version goes up, so the next
``type=sale&mode=query`` includes it).
"""

from django.contrib import admin, messages
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import selectors
from ..models import OrderExchange, OrderExportItem
from ..services import orders as order_services


class AcknowledgedFilter(admin.SimpleListFilter):
    """Acknowledged by 1C at the current version, or still due."""

    title = _("acknowledged by 1C")
    parameter_name = "acknowledged"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes, the current version")), ("no", _("No, waiting to be sent")), ("never", _("Never"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(acknowledged_version__gte=F("version"))
        if self.value() == "no":
            return queryset.filter(acknowledged_version__lt=F("version"))
        if self.value() == "never":
            return queryset.filter(acknowledged_version=0)
        return queryset


class DueFilter(admin.SimpleListFilter):
    """Goes out with 1C's next ``mode=query`` (ONEC_ORDER_EXPORT_FROM_STATUS applied)."""

    title = _("goes to 1C at its next request")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        due = selectors.exchanges_due_for_export().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=due)
        if self.value() == "no":
            return queryset.exclude(pk__in=due)
        return queryset


class SentFilter(admin.SimpleListFilter):
    """Sent to 1C at least once, or never."""

    title = _("sent to 1C")
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(first_sent_at__isnull=self.value() == "no")
        return queryset


class HasOneCNumberFilter(admin.SimpleListFilter):
    title = _("has a 1C number")
    parameter_name = "has_onec_number"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(onec_number="")
        if self.value() == "no":
            return queryset.filter(onec_number="")
        return queryset


@admin.register(OrderExchange)
class OrderExchangeAdmin(admin.ModelAdmin):
    list_display = (
        "order_number",
        "order_status",
        "order_placed",
        "first_sent_at",
        "last_sent_at",
        "acknowledged",
        "acknowledged_at",
        "onec_number",
        "last_change_from_1c_at",
        "posted",
        "paid",
        "shipped",
        "cancelled",
    )
    list_filter = (
        AcknowledgedFilter,
        DueFilter,
        SentFilter,
        HasOneCNumberFilter,
        "posted",
        "cancelled",
        "deletion_mark",
        ("order__date_placed", admin.DateFieldListFilter),
        ("acknowledged_at", admin.DateFieldListFilter),
        ("last_change_from_1c_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "order__number",
        "onec_number",
        "order__guest_email",
        "order__user__email",
        "tracking_number",
    )
    list_select_related = ("order",)
    ordering = ("-order__date_placed",)
    date_hierarchy = "order__date_placed"
    actions = ("send_again",)
    readonly_fields = (
        "order_link",
        "version",
        "acknowledged_version",
        "first_sent_at",
        "last_sent_at",
        "acknowledged_at",
        "onec_number",
        "onec_date",
        "posted",
        "deletion_mark",
        "cancelled",
        "paid_at",
        "payment_number",
        "shipped_at",
        "shipment_number",
        "tracking_number",
        "onec_status",
        "last_change_from_1c_at",
        "exports",
    )
    fieldsets = (
        (None, {"fields": ["order_link"]}),
        (
            _("Sending to 1C"),
            {
                "fields": [
                    "version",
                    "acknowledged_version",
                    "first_sent_at",
                    "last_sent_at",
                    "acknowledged_at",
                    "exports",
                ]
            },
        ),
        (
            _("What 1C reported"),
            {
                "fields": [
                    "onec_number",
                    "onec_date",
                    "onec_status",
                    "posted",
                    "deletion_mark",
                    "cancelled",
                    "paid_at",
                    "payment_number",
                    "shipped_at",
                    "shipment_number",
                    "tracking_number",
                    "last_change_from_1c_at",
                ]
            },
        ),
    )

    def has_add_permission(self, request):
        return False  # rows are created when orders are placed

    def has_delete_permission(self, request, obj=None):
        return False  # deleting would make 1C receive the order again as new

    @admin.display(description=_("Order"), ordering="order__number")
    def order_number(self, obj):
        return obj.order.number

    @admin.display(description=_("Status"), ordering="order__status")
    def order_status(self, obj):
        return obj.order.status

    @admin.display(description=_("Placed"), ordering="order__date_placed")
    def order_placed(self, obj):
        return obj.order.date_placed

    @admin.display(description=_("Acknowledged by 1C"), boolean=True)
    def acknowledged(self, obj):
        return not obj.is_due

    @admin.display(description=_("Paid"), boolean=True, ordering="paid_at")
    def paid(self, obj):
        return obj.paid_at is not None

    @admin.display(description=_("Shipped"), boolean=True, ordering="shipped_at")
    def shipped(self, obj):
        return obj.shipped_at is not None

    @admin.display(description=_("Order"))
    def order_link(self, obj):
        try:
            url = reverse("dashboard:order-detail", kwargs={"number": obj.order.number})
        except NoReverseMatch:
            return obj.order.number
        return format_html('<a href="{}">№ {}</a> ({})', url, obj.order.number, obj.order.status)

    @admin.display(description=_("Answers to 1C's requests"))
    def exports(self, obj):
        items = OrderExportItem.objects.filter(order_id=obj.order_id).order_by("-sent_at")[:20]
        if not items:
            return "—"
        rows = format_html_join(
            "",
            "<li>{} — {} {}{}</li>",
            (
                (
                    timezone.localtime(item.sent_at).strftime("%d.%m.%Y %H:%M:%S"),
                    gettext("version"),
                    item.version,
                    " — " + gettext("acknowledged") if item.acknowledged_at else "",
                )
                for item in items
            ),
        )
        return format_html("<ul>{}</ul>", rows)

    @admin.action(description=_("Send to 1C again"), permissions=["change"])
    def send_again(self, request, queryset):
        count = order_services.resend(queryset)
        self.message_user(
            request,
            gettext("Orders to send to 1C again: %(count)s. They go at 1C's next request.") % {"count": count},
            messages.SUCCESS,
        )


@admin.register(OrderExportItem)
class OrderExportItemAdmin(admin.ModelAdmin):
    """Each order in each answer to 1C's ``mode=query``: the audit trail of the export."""

    list_display = ("order", "version", "session", "sent_at", "acknowledged_at")
    list_filter = (("sent_at", admin.DateFieldListFilter), ("acknowledged_at", admin.EmptyFieldListFilter))
    search_fields = ("order__number",)
    list_select_related = ("order", "session")
    readonly_fields = ("order", "version", "session", "sent_at", "acknowledged_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
