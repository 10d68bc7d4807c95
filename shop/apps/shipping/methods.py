"""
The shop's shipping methods: courier delivery (a fixed charge, free from a basket total)
and pickup from the shop (free).

Charges are in the shop's currency and include tax, like the 1C selling prices.
"""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from oscar.apps.shipping import methods
from oscar.core import prices
from oscar.templatetags.currency_filters import currency


class CourierDelivery(methods.Base):
    """
    «Курьерская доставка»: ``SHOP_DELIVERY_CHARGE``, or nothing once the basket reaches
    ``SHOP_FREE_DELIVERY_FROM`` (0 turns the free threshold off).
    """

    code = "courier"
    name = _("Courier delivery")

    @property
    def charge(self):
        return Decimal(settings.SHOP_DELIVERY_CHARGE)

    @property
    def free_from(self):
        return Decimal(settings.SHOP_FREE_DELIVERY_FROM)

    @property
    def description(self):
        if not self.free_from:
            return ""
        return _("Free for orders from %(amount)s.") % {"amount": currency(self.free_from)}

    def calculate(self, basket):
        charge = Decimal("0.00") if self.is_free_for(basket) else self.charge
        return prices.Price(currency=basket.currency, excl_tax=charge, tax=Decimal("0.00"))

    def is_free_for(self, basket):
        """Whether the basket's total (after discounts) reaches the free-delivery threshold."""
        if not self.free_from:
            return False
        total = basket.total_incl_tax if basket.is_tax_known else basket.total_excl_tax
        return total >= self.free_from


class Pickup(methods.Free):
    """«Самовывоз»: the customer collects the order at the shop (``SHOP_PICKUP_ADDRESS``)."""

    code = "pickup"
    name = _("Pickup")

    @property
    def description(self):
        return settings.SHOP_PICKUP_ADDRESS
