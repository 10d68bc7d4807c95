"""
What a shopper may still add of a product, given what their basket already holds.

The strategy answers how many pieces are available to sell (the sales stock record, see
:mod:`shop.apps.partner.strategy`); this module subtracts the basket, so the product
page and the add-to-basket refusal say the same thing: "в корзине уже 2 шт., можно
добавить ещё 1".
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class BasketStock:
    """One product against one basket."""

    #: Pieces available to sell (None: not stock-tracked, no limit).
    available: int | None
    #: Pieces of the product already in the basket (all its lines).
    in_basket: int

    @property
    def addable(self):
        """How many more may go into the basket (None: no limit)."""
        if self.available is None:
            return None
        return max(0, self.available - self.in_basket)

    @property
    def can_add(self):
        return self.addable is None or self.addable > 0

    def refusal(self, wanted):
        """The message when adding ``wanted`` more is too many, or "" when it is not."""
        if self.available is None or self.in_basket + wanted <= self.available:
            return ""
        if not self.in_basket:
            return ""  # the strategy's own message ("Доступно только N шт.") says it all
        if self.addable <= 0:
            return _(
                "Only %(available)d pcs available, and all of them are already in your basket."
            ) % {"available": self.available}
        return _(
            "Only %(available)d pcs available, %(in_basket)d pcs are already in your basket: "
            "you can add %(addable)d more."
        ) % {"available": self.available, "in_basket": self.in_basket, "addable": self.addable}


def basket_stock(basket, product, available=None):
    """
    :class:`BasketStock` of ``product`` in ``basket``. ``available`` is the strategy's
    figure when the caller has it (the product page does), else it is asked here.
    """
    if available is None and basket is not None:
        info = basket.strategy.fetch_for_product(product)
        available = getattr(info.availability, "num_available", None)
    in_basket = basket.product_quantity(product) if basket is not None and basket.id else 0
    return BasketStock(available=None if available is None else max(0, int(available)), in_basket=in_basket)
