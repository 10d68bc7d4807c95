"""
Oscar's order admin, with the order list a manager reads: the customer by name and
e-mail (guests too), money in the shop's currency, status and the 1C state in words.
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from oscar.apps.order.admin import *  # noqa: F401,F403
from oscar.apps.order.admin import Order
from oscar.apps.order.admin import OrderAdmin as OscarOrderAdmin
from oscar.templatetags.currency_filters import currency

from integration_1c.display import order_1c_state


class OrderAdmin(OscarOrderAdmin):
    list_display = ("number", "date_placed", "customer", "total", "status", "onec_state")
    list_filter = ("status", ("date_placed", admin.DateFieldListFilter))
    list_select_related = ("user", "shipping_address", "onec")
    search_fields = (
        "number", "user__username", "user__email", "user__first_name", "user__last_name", "guest_email",
        "shipping_address__last_name", "shipping_address__phone_number",
    )  # fmt: skip
    date_hierarchy = "date_placed"

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


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)
