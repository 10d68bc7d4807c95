"""
Oscar's order admin, with the order list a manager reads: the customer by name and
e-mail (guests too), money in the shop's currency, how the order travels (pickup point
or address), the 1C state in words; and on the order page the phone and the payment method.
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from oscar.apps.order.admin import *  # noqa: F401,F403
from oscar.apps.order.admin import OrderAdmin as OscarOrderAdmin
from oscar.core.loading import get_classes, get_model
from oscar.templatetags.currency_filters import currency

from integration_1c.display import order_1c_state

Order = get_model("order", "Order")


class DeliveryMethodFilter(admin.SimpleListFilter):
    """The orders by delivery method, named as the shopper chose it («Самовывоз»), not by code («pickup»)."""

    title = _("Delivery method")
    parameter_name = "shipping_code"

    def lookups(self, request, model_admin):
        methods = get_classes("shipping.methods", ["CourierDelivery", "Pickup"])
        return [(method.code, method.name) for method in methods]

    def queryset(self, request, queryset):
        return queryset.filter(shipping_code=self.value()) if self.value() else queryset


class OrderAdmin(OscarOrderAdmin):
    list_display = (
        "number", "date_placed", "customer", "total", "status", "shipping_method", "pickup_point_name", "onec_state",
    )  # fmt: skip
    list_filter = ("status", DeliveryMethodFilter, "pickup_point", ("date_placed", admin.DateFieldListFilter))
    list_select_related = ("user", "shipping_address", "onec")
    readonly_fields = OscarOrderAdmin.readonly_fields + ("delivery", "phone", "payment_method")
    search_fields = OscarOrderAdmin.search_fields + (
        "guest_email", "user__first_name", "user__last_name", "shipping_address__last_name",
        "shipping_address__phone_number",
    )  # fmt: skip
    date_hierarchy = "date_placed"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipping_address").prefetch_related("sources__source_type")

    @admin.display(description=_("Customer"), ordering="user__last_name")
    def customer(self, obj):
        user = obj.user
        if user is not None:
            name, email = user.get_full_name(), user.email
        else:
            address = obj.shipping_address
            name, email = (address.name if address else ""), obj.guest_email
        if name and email:
            return format_html("{}<br><small>{}</small>", name, email)
        return name or email or "—"

    @admin.display(description=_("Order total"), ordering="total_incl_tax")
    def total(self, obj):
        return currency(obj.total_incl_tax, obj.currency)

    @admin.display(description=_("1C state"))
    def onec_state(self, obj):
        return order_1c_state(obj)[0]

    @admin.display(description=_("Delivery"))
    def delivery(self, order):
        if order.is_pickup:
            parts = [order.pickup_point_name, order.pickup_point_address, order.pickup_point_hours]
            return " — ".join([order.shipping_method] + [part for part in parts if part])
        address = order.shipping_address.summary if order.shipping_address else ""
        return " — ".join(part for part in (order.shipping_method, address) if part)

    @admin.display(description=_("Phone"))
    def phone(self, order):
        address = order.shipping_address
        return str(address.phone_number) if address and address.phone_number else "—"

    @admin.display(description=_("Payment method"))
    def payment_method(self, order):
        return ", ".join(source.source_type.name for source in order.sources.all()) or "—"


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)
