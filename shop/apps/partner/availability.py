"""
Availability policies of the shop: what a shopper is told about stock, and whether a
quantity may be bought.

Every policy here answers from ONE number, the quantity available to sell on the
product's sales stock record (``num_in_stock - num_allocated``, see
:mod:`shop.apps.partner.strategy`), so the product card, the product page, the basket
and the checkout can never disagree. The wording is the shop's own (Russian), because a
shopper must read "Осталось всего 2 шт.", not Oscar's "In stock (2 available)".

Oscar looks these classes up by name (``get_class("partner.availability", ...)``):
``Unavailable`` and ``Available`` are re-exported so that ``isinstance`` checks in
Oscar's basket (``Line.get_warning``) keep working with ours.
"""

from django.utils.translation import gettext_lazy as _
from oscar.apps.partner.availability import Available, Base, Unavailable

__all__ = [
    "Available",
    "Base",
    "Unavailable",
    "NotForSale",
    "NoSalesRecord",
    "SalesStock",
    "ParentAvailability",
    "SCHEMA_IN_STOCK",
    "SCHEMA_LIMITED",
    "SCHEMA_OUT_OF_STOCK",
]

# schema.org ItemAvailability values used in the product page's JSON-LD.
SCHEMA_IN_STOCK = "https://schema.org/InStock"
SCHEMA_LIMITED = "https://schema.org/LimitedAvailability"
SCHEMA_OUT_OF_STOCK = "https://schema.org/OutOfStock"


def pieces(quantity):
    """«3 шт.» — the unit 1C shops quote quantities in."""
    return _("%(n)d pcs.") % {"n": quantity}


class NotForSale(Unavailable):
    """
    The product was hidden (1C deleted it or a manager unpublished it) while it sat in
    someone's basket. It stays in the basket, flagged, so the shopper sees what happened,
    but it cannot be ordered.
    """

    code = "notforsale"
    message = _("No longer on sale: please remove it from your basket")
    short_message = _("No longer on sale")
    num_available = 0
    is_low = False
    schema_org = SCHEMA_OUT_OF_STOCK

    def is_purchase_permitted(self, quantity):
        return False, _("the product is no longer on sale")


class NoSalesRecord(Unavailable):
    """No sales stock record (1C sent no offer for the product yet): visible, not sold."""

    code = "outofstock"
    message = _("Not on sale")
    short_message = _("Not on sale")
    num_available = 0
    is_low = False
    schema_org = SCHEMA_OUT_OF_STOCK

    def is_purchase_permitted(self, quantity):
        return False, _("the product is not on sale")


class SalesStock(Base):
    """
    Stock of the sales stock record: in stock, "осталось всего N" below the low-stock
    threshold (conf ``ONEC_LOW_STOCK_THRESHOLD``), or out of stock. Out-of-stock products
    stay visible but cannot be added; more than is available is refused with the number
    that is.
    """

    CODE_IN_STOCK = "instock"
    CODE_LOW_STOCK = "lowstock"
    CODE_OUT_OF_STOCK = "outofstock"

    def __init__(self, num_available, low_stock_threshold):
        self.num_available = max(0, int(num_available or 0))
        self.low_stock_threshold = low_stock_threshold

    @property
    def is_low(self):
        return 0 < self.num_available < self.low_stock_threshold

    @property
    def code(self):
        if self.num_available <= 0:
            return self.CODE_OUT_OF_STOCK
        return self.CODE_LOW_STOCK if self.is_low else self.CODE_IN_STOCK

    @property
    def message(self):
        if self.num_available <= 0:
            return _("Out of stock")
        if self.is_low:
            return _("Only %(pieces)s left") % {"pieces": pieces(self.num_available)}
        return _("In stock")

    @property
    def short_message(self):
        return self.message

    @property
    def schema_org(self):
        if self.num_available <= 0:
            return SCHEMA_OUT_OF_STOCK
        return SCHEMA_LIMITED if self.is_low else SCHEMA_IN_STOCK

    def is_purchase_permitted(self, quantity):
        if self.num_available <= 0:
            return False, _("the product is out of stock")
        if quantity > self.num_available:
            return False, _("Only %(pieces)s available") % {"pieces": pieces(self.num_available)}
        return True, ""


class ParentAvailability(Base):
    """
    A product with variants: available when at least one variant is. The parent itself
    is never put into a basket (Oscar asks for a variant), so ``num_available`` is the
    total over the variants, for the card's wording only.
    """

    def __init__(self, child_policies):
        self.child_policies = list(child_policies)
        self.num_available = sum(getattr(p, "num_available", 0) or 0 for p in self.child_policies)
        self.num_variants_available = sum(1 for p in self.child_policies if p.is_available_to_buy)

    @property
    def is_low(self):
        return False

    @property
    def code(self):
        return SalesStock.CODE_IN_STOCK if self.num_variants_available else SalesStock.CODE_OUT_OF_STOCK

    @property
    def message(self):
        if not self.num_variants_available:
            return _("Out of stock")
        if self.num_variants_available < len(self.child_policies):
            return _("In stock: %(n)d of %(total)d variants") % {
                "n": self.num_variants_available,
                "total": len(self.child_policies),
            }
        return _("In stock")

    @property
    def short_message(self):
        return _("In stock") if self.num_variants_available else _("Out of stock")

    @property
    def schema_org(self):
        return SCHEMA_IN_STOCK if self.num_variants_available else SCHEMA_OUT_OF_STOCK

    def is_purchase_permitted(self, quantity):
        if self.num_variants_available:
            return True, ""
        return False, _("no variant is in stock")
