"""
Bringing a basket back in line with the stock on sale.

A 1C exchange can lower stock (or hide a product) while it sits in a basket. Each time
the basket page is shown the basket is re-checked against the strategy (the sales stock
record, see :mod:`shop.apps.partner.strategy`): a line asking for more than is available
is lowered to what is, a line whose product ran out is removed, and the shopper is told
which and why. A line whose product was hidden stays, flagged by its availability
("снят с продажи"), so the shopper sees what happened; checkout refuses it
(``check_basket_is_valid`` in every checkout step and the order creator's locked
re-check), and a checkout step that finds a problem sends the shopper back here.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from oscar.core.loading import get_class

NotForSale = get_class("partner.availability", "NotForSale")


@dataclass(frozen=True)
class LineAdjustment:
    """What the re-check did to one basket line, and the sentence telling the shopper."""

    product_title: str
    old_quantity: int
    new_quantity: int
    message: str

    @property
    def removed(self):
        return self.new_quantity == 0


def reconcile_basket(basket):
    """
    Lower or remove the lines of ``basket`` (its strategy must be set) that ask for more
    than is available, in line order, sharing a stock record's quantity among the lines
    that use it. Returns the adjustments made (empty when the basket was fine).
    """
    adjustments = []
    remaining = {}
    for line in list(basket.all_lines()):
        availability = basket.strategy.fetch_for_line(line).availability
        if isinstance(availability, NotForSale):
            continue
        num_available = getattr(availability, "num_available", None)
        if num_available is None:
            continue  # not stock-tracked: always available
        left = remaining.get(line.stockrecord_id, max(0, num_available))
        if line.quantity <= left:
            remaining[line.stockrecord_id] = left - line.quantity
            continue
        title = line.product.get_title()
        old_quantity = line.quantity
        if left <= 0:
            line.delete()
            message = _("«%(title)s» закончился и удалён из корзины.") % {"title": title}
        else:
            line.quantity = left
            line.save(update_fields=["quantity", "date_updated"])
            message = _(
                "«%(title)s»: в наличии осталось только %(n)d шт., количество в корзине "
                "уменьшено с %(old)d до %(n)d."
            ) % {"title": title, "n": left, "old": old_quantity}
        remaining[line.stockrecord_id] = 0
        adjustments.append(LineAdjustment(title, old_quantity, max(0, left), message))
    if adjustments:
        # Lines changed under the cached list and the applied offers: recompute both.
        basket.reset_offer_applications()
    return adjustments
