"""
The shop's pricing and availability strategy: what a shopper pays and whether it can be
bought, from 1C's data.

The multi-warehouse model
-------------------------
1C keeps stock per warehouse (Склад). The importer (``integration_1c/services/``) writes
one ``StockRecord`` per product and warehouse (partner = the warehouse, ``code`` = its 1C
Ид) and ONE MORE, the *sales stock record*, on the partner with code conf
``ONEC_SALES_PARTNER_CODE`` ("site"):

* its ``num_in_stock`` is the sum over the SELLING warehouses (conf
  ``ONEC_SELLING_WAREHOUSES``; empty = all);
* its ``price`` is the selling price type's price (conf ``ONEC_PRICE_TYPE``);
* its ``num_allocated`` is the shop's own reservations that 1C does not know of yet.

This strategy always sells from the sales stock record: the price comes from it, the
quantity available is ``num_in_stock - num_allocated`` on it, basket lines and order lines
point at it, and placing an order reserves on it (``allocate`` under ``select_for_update``,
see :mod:`shop.apps.order.utils`). Which warehouse ships is 1C's business once it has the
order; the per-warehouse records are only shown (see :mod:`shop.apps.partner.selectors`).

When the next stock file arrives, ``integration_1c/services/stock.py`` sets
``num_in_stock`` from 1C and recomputes ``num_allocated`` from the order lines 1C's
figures do not reflect yet, so a reservation is counted exactly once: here until 1C
acknowledged the order, in 1C's figures afterwards.

Prices
------
The selling price is tax inclusive (KZT shelf prices): no tax is added on top. A customer
in a group mapped by ``integration_1c.CustomerGroupPriceType`` pays that price type's
``ProductPrice`` instead (highest-priority group wins; the selling price when the product
has no price of that type). The price of conf ``ONEC_OLD_PRICE_TYPE`` is shown crossed
out when it is higher than what the customer pays.

Everything is read from prefetched rows when the product came from
:func:`shop.apps.partner.prefetch.prefetch_for_strategy`, so listings make no query per
product.
"""

from functools import cached_property

from django.db.models import QuerySet
from oscar.apps.partner.strategy import PurchaseInfo, Structured

from integration_1c import conf

from . import selectors
from .availability import Available as AlwaysAvailable
from .availability import NoSalesRecord, NotForSale, ParentAvailability, SalesStock
from .prefetch import prefetch_for_strategy
from .prices import FromPrice, ShelfPrice
from .prices import Unavailable as UnavailablePrice

__all__ = ["Selector", "SalesStrategy", "PurchaseInfo"]


class Selector:
    """Oscar's hook (``partner.strategy.Selector``): one strategy per request or user."""

    def strategy(self, request=None, user=None, **kwargs):
        if user is None and request is not None:
            user = getattr(request, "user", None)
        return SalesStrategy(request=request, user=user)


class SalesStrategy(Structured):
    """Sell from the sales stock record, at the customer's 1C price type."""

    def __init__(self, request=None, user=None):
        # Not Oscar's __init__: it reads request.user, which offline callers may not have.
        self.request = request
        self.user = user if getattr(user, "is_authenticated", False) else None

    # --- What this strategy needs once per request ---------------------------------

    @cached_property
    def sales_partner_id(self):
        return selectors.sales_partner_id()

    @cached_property
    def customer_price_type(self):
        """``(id, name)`` of the price type the customer's group pays, or None."""
        return selectors.group_price_type(self.user)

    @cached_property
    def old_price_type_id(self):
        return selectors.old_price_type_id()

    @cached_property
    def low_stock_threshold(self):
        return int(conf.get("ONEC_LOW_STOCK_THRESHOLD"))

    # --- Stock record --------------------------------------------------------------

    def select_stockrecord(self, product):
        return selectors.sales_stockrecord(product, self.sales_partner_id)

    def select_children_stockrecords(self, product):
        """
        ``(variant, sales stock record)`` for the public variants: prefetched ones when the
        parent came from ``prefetch_for_strategy``, else fetched here in three queries.
        """
        children = product.get_public_children()
        if isinstance(children, QuerySet):
            children = prefetch_for_strategy(children, with_children=False)
        return [(child, self.select_stockrecord(child)) for child in children]

    def fetch_for_line(self, line, stockrecord=None):
        """
        A basket line already points at its sales stock record (loaded with the line):
        use it rather than looking it up again.
        """
        stockrecord = stockrecord or line.stockrecord
        if stockrecord is None or stockrecord.partner_id != self.sales_partner_id:
            stockrecord = None
        return self.fetch_for_product(line.product, stockrecord)

    # --- Price ---------------------------------------------------------------------

    def pricing_policy(self, product, stockrecord):
        if not stockrecord or stockrecord.price is None:
            return UnavailablePrice()
        amount = stockrecord.price
        price_type = ""
        customer_type = self.customer_price_type
        wanted = {self.old_price_type_id, customer_type[0] if customer_type else None}
        prices = selectors.product_prices(product, wanted)
        if customer_type and customer_type[0] in prices:
            amount = prices[customer_type[0]].price
            price_type = customer_type[1]
        old = prices.get(self.old_price_type_id)
        return ShelfPrice(
            currency=stockrecord.price_currency,
            amount=amount,
            old_price=old.price if old else None,
            price_type=price_type,
        )

    def parent_pricing_policy(self, product, children_stock):
        """
        "от N ₸": the lowest price among the variants in stock (among all variants when
        none is), with the old price of that same variant; "от" when the variants'
        prices differ.
        """
        offers = []
        for child, stockrecord in children_stock:
            price = self.pricing_policy(child, stockrecord)
            if price.exists:
                available = self.availability_policy(child, stockrecord).is_available_to_buy
                offers.append((not available, price.incl_tax, price))
        if not offers:
            return UnavailablePrice()
        in_stock = [o for o in offers if not o[0]] or offers
        cheapest = min(in_stock, key=lambda o: o[1])[2]
        return FromPrice(
            currency=cheapest.currency,
            amount=cheapest.incl_tax,
            is_from=len({o[1] for o in offers}) > 1,
            old_price=cheapest.old_price,
        )

    # --- Availability --------------------------------------------------------------

    def availability_policy(self, product, stockrecord):
        if not is_on_sale(product):
            return NotForSale()
        if not stockrecord:
            return NoSalesRecord()
        if not product.get_product_class().track_stock:
            return AlwaysAvailable()
        return SalesStock(stockrecord.net_stock_level, self.low_stock_threshold)

    def parent_availability_policy(self, product, children_stock):
        if not product.is_public:
            return NotForSale()
        return ParentAvailability(
            self.availability_policy(child, stockrecord) for child, stockrecord in children_stock
        )


def is_on_sale(product):
    """A product is sold while it (and, for a variant, its parent) is public."""
    if not product.is_public:
        return False
    if product.parent_id and not product.parent.is_public:
        return False
    return True
