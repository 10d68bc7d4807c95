"""
Placing an order without overselling.

Which stock an order takes
--------------------------
Every basket line, and so every order line, points at the product's *sales stock
record* (partner conf ``ONEC_SALES_PARTNER_CODE``; see :mod:`shop.apps.partner.strategy`):
its ``num_in_stock`` is the sum of the selling warehouses' quantities from 1C, and
``num_in_stock - num_allocated`` is what the shop may still sell. The order does not pick
a warehouse; 1C does when it receives the order.

How an order reserves it
------------------------
Placing an order allocates each line's quantity on that record (Oscar's
``StockRecord.allocate``, i.e. ``num_allocated += quantity``), inside one transaction
that first locks the basket's stock records with ``SELECT … FOR UPDATE`` in primary-key
order and re-checks availability on the locked, current rows. So:

* two shoppers buying the last item are serialised on the row lock: the first reserves
  it, the second re-reads ``num_allocated`` after the first commits, finds nothing left
  and gets :class:`UnableToPlaceOrder` with a message saying so; no order is written
  for them (Oscar's checkout restores their basket and shows the message);
* every transaction takes its locks in the same (pk) order, so concurrent checkouts
  of overlapping baskets wait for each other instead of deadlocking;
* a product hidden since it went into the basket is refused the same way.

How it meets the next 1C stock update
-------------------------------------
The reservation lives in ``num_allocated`` until 1C's own figures include the order.
``integration_1c/services/stock.py`` (the stock import) overwrites ``num_in_stock``
with 1C's total and recomputes ``num_allocated`` from the order lines that 1C's figures
do not reflect yet (the rule is documented there), taking the same row locks; so a
reservation is subtracted once, never twice and never lost.
"""

from collections import OrderedDict

from django.db import transaction
from django.utils.translation import gettext as _
from oscar.apps.order import utils
from oscar.core.loading import get_class, get_model

UnableToPlaceOrder = get_class("order.exceptions", "UnableToPlaceOrder")
StockRecord = get_model("partner", "StockRecord")
Product = get_model("catalogue", "Product")

OrderNumberGenerator = utils.OrderNumberGenerator
OrderDispatcher = utils.OrderDispatcher


class OrderCreator(utils.OrderCreator):
    """Oscar's order creator, reserving stock under row locks (see the module docstring)."""

    def place_order(self, basket, *args, **kwargs):
        with transaction.atomic():
            self.lock_and_check_stock(basket)
            return super().place_order(basket, *args, **kwargs)

    def lock_and_check_stock(self, basket):
        """
        Lock the stock records ``basket`` takes from, in pk order, and raise
        :class:`UnableToPlaceOrder` unless each still has what the basket asks for and
        every product is still on sale. Must run inside the order's transaction.
        """
        lines = list(basket.all_lines())
        wanted = OrderedDict()
        for line in lines:
            if line.stockrecord_id and line.product.get_product_class().track_stock:
                wanted[line.stockrecord_id] = wanted.get(line.stockrecord_id, 0) + line.quantity
        locked = {
            record.pk: record
            for record in StockRecord.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        }
        problems = self.hidden_products(lines)
        for line in lines:
            if line.stockrecord_id not in wanted:
                continue
            record = locked.get(line.stockrecord_id)
            available = max(0, record.net_stock_level) if record else 0
            if wanted[line.stockrecord_id] > available:
                problems.append(self.shortage_message(line.product.get_title(), available))
                wanted.pop(line.stockrecord_id)
        if problems:
            raise UnableToPlaceOrder(" ".join(problems))

    def hidden_products(self, lines):
        """Messages for lines whose product (or its parent) was hidden, read afresh."""
        by_pk = {line.product_id: line for line in lines}
        rows = Product.objects.filter(pk__in=by_pk).values_list("pk", "is_public", "parent__is_public")
        return [
            _("«%(title)s» снят с продажи. Заказ не оформлен — удалите товар из корзины.")
            % {"title": by_pk[pk].product.get_title()}
            for pk, is_public, parent_is_public in rows
            if not is_public or parent_is_public is False
        ]

    @staticmethod
    def shortage_message(title, available):
        if available <= 0:
            return _(
                "Пока вы оформляли заказ, «%(title)s» закончился. Заказ не оформлен — "
                "уберите товар из корзины."
            ) % {"title": title}
        return _(
            "Пока вы оформляли заказ, «%(title)s» раскупили: доступно только %(n)d шт. "
            "Заказ не оформлен — уменьшите количество в корзине."
        ) % {"title": title, "n": available}
