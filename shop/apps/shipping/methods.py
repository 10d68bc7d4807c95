"""
The shop's shipping methods: courier delivery (a fixed charge, free from a basket total)
and pickup at one of the shop's pickup points (free; see :mod:`.pickup`).

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
    ``SHOP_FREE_DELIVERY_FROM`` (0 turns the free threshold off). The customer gives the
    address.
    """

    code = "courier"
    name = _("Courier delivery")
    needs_address = True

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
        return basket_total(basket) >= self.free_from

    def amount_to_free(self, basket):
        """How much more the basket needs for free delivery (None when there is no threshold or it is reached)."""
        if not self.free_from or self.is_free_for(basket):
            return None
        return self.free_from - basket_total(basket)


class Pickup(methods.Free):
    """«Самовывоз»: the customer collects the order at a pickup point they choose (free)."""

    code = "pickup"
    name = _("Pickup")
    needs_address = False

    @property
    def description(self):
        return _("Free, at the pickup point you choose.")


def basket_total(basket):
    return basket.total_incl_tax if basket.is_tax_known else basket.total_excl_tax
