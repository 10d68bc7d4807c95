"""
Oscar's order admin, with how the order travels and is paid in the list and on the
order page: the pickup point (or address), the phone and the payment method.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from oscar.apps.order.admin import *  # noqa: F401,F403
from oscar.apps.order.admin import OrderAdmin as OscarOrderAdmin
from oscar.core.loading import get_model

Order = get_model("order", "Order")


class OrderAdmin(OscarOrderAdmin):
    list_display = ("number", "total_incl_tax", "status", "shipping_method", "pickup_point_name", "user", "date_placed")
    list_filter = ("status", "shipping_code", "pickup_point")
    readonly_fields = OscarOrderAdmin.readonly_fields + ("delivery", "phone", "payment_method")
    search_fields = OscarOrderAdmin.search_fields + ("guest_email", "shipping_address__phone_number")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipping_address").prefetch_related("sources__source_type")

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
