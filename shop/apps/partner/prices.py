"""
Pricing policies of the shop.

Prices come from 1C as final shelf prices: in Kazakhstan (and Russia) a shop quotes the
price the customer pays, VAT included, so the shop adds no tax on top. Oscar is told
exactly that: tax is known and zero, ``incl_tax == excl_tax == the 1C price``, and
offers use the tax-inclusive price.

Oscar looks these classes up by name (``get_class("partner.prices", ...)``), so
``Unavailable`` and ``FixedPrice`` are re-exported.
"""

from decimal import Decimal

from oscar.apps.partner.prices import Base, FixedPrice, TaxInclusiveFixedPrice, Unavailable

__all__ = ["Base", "FixedPrice", "TaxInclusiveFixedPrice", "Unavailable", "ShelfPrice", "FromPrice"]

ZERO = Decimal("0.00")


class ShelfPrice(TaxInclusiveFixedPrice):
    """
    A 1C price, tax included. ``old_price`` is the crossed-out price (conf
    ``ONEC_OLD_PRICE_TYPE``), set only when it is higher than what the shopper pays;
    ``price_type`` names the 1C price type the shopper pays (selling type or the
    shopper's group type), for the record.
    """

    is_from = False

    def __init__(self, currency, amount, old_price=None, price_type=""):
        super().__init__(currency=currency, excl_tax=amount, tax=ZERO)
        self.old_price = old_price if old_price is not None and old_price > amount else None
        self.price_type = price_type

    @property
    def has_old_price(self):
        return self.old_price is not None


class FromPrice(ShelfPrice):
    """
    A parent product's price: the lowest of its variants' prices ("от N ₸" when the
    variants' prices differ). It is shown, never charged: a variant is what goes into a
    basket, with its own price.
    """

    def __init__(self, currency, amount, is_from, old_price=None):
        super().__init__(currency=currency, amount=amount, old_price=old_price)
        self.is_from = is_from
