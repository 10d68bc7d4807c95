"""
Pickup points and what of a basket each of them holds.

A pickup point is a 1C warehouse the manager marked as such (``Partner.is_pickup_point``,
with address, hours and map link). 1C sends stock per warehouse, and the import keeps one
``StockRecord`` per product and warehouse, so for every point the checkout can tell the
shopper whether the whole basket is there or which items are short — before they choose.

The figures are 1C's own per-warehouse quantities from the last exchange. The shop's
reservations are held on the sales stock record (see :mod:`shop.apps.partner.strategy`),
not per warehouse: a point can therefore look complete for a product that other site
orders placed since the exchange will take from the same warehouse. The order document
names the point (see ``integration_1c.commerceml.orders``) so that 1C reserves there.
"""

from collections import OrderedDict
from dataclasses import dataclass, field

from oscar.core.loading import get_model

Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")


@dataclass(frozen=True)
class MissingItem:
    """A basket product a point has less of than the basket asks for."""

    title: str
    wanted: int
    available: int


@dataclass
class PickupOption:
    """One pickup point as the checkout offers it: the point and what it lacks of the basket."""

    point: Partner
    missing: list[MissingItem] = field(default_factory=list)

    @property
    def code(self):
        return self.point.code

    @property
    def is_complete(self):
        return not self.missing


def pickup_points():
    """Every pickup point, in the manager's order."""
    return list(Partner.objects.pickup_points())


def find_pickup_point(code):
    """The pickup point with 1C Ид ``code``, or None (unknown, or no longer a pickup point)."""
    if not code:
        return None
    return Partner.objects.pickup_points().filter(code=code).first()


def basket_quantities(basket):
    """``{product id: (title, quantity)}`` of what the basket asks for, lines of one product summed."""
    wanted = OrderedDict()
    for line in basket.all_lines():
        if line.product_id is None or not line.product.get_product_class().track_stock:
            continue
        title, quantity = wanted.get(line.product_id, (line.product.get_title(), 0))
        wanted[line.product_id] = (title, quantity + line.quantity)
    return wanted


def pickup_options(basket, points=None):
    """
    A :class:`PickupOption` per pickup point (``points``, default all), each listing the
    basket products the point has too few of. Two queries whatever the basket size.
    """
    points = pickup_points() if points is None else list(points)
    wanted = basket_quantities(basket)
    stock = {}
    if points and wanted:
        rows = StockRecord.objects.filter(partner__in=points, product_id__in=wanted).values_list(
            "partner_id", "product_id", "num_in_stock", "num_allocated"
        )
        for partner_id, product_id, in_stock, allocated in rows:
            key = (partner_id, product_id)
            stock[key] = stock.get(key, 0) + max(0, (in_stock or 0) - (allocated or 0))
    options = []
    for point in points:
        missing = [
            MissingItem(title=title, wanted=quantity, available=stock.get((point.pk, product_id), 0))
            for product_id, (title, quantity) in wanted.items()
            if stock.get((point.pk, product_id), 0) < quantity
        ]
        options.append(PickupOption(point=point, missing=missing))
    return options


def default_option(options, chosen_code=None):
    """The option to preselect: the one chosen before, else the first complete one, else none."""
    for option in options:
        if option.code == chosen_code:
            return option
    return next((option for option in options if option.is_complete), None)
