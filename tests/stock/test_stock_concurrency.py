"""
Two shoppers, one last item: placing orders concurrently never oversells.

Real threads on real PostgreSQL connections (transactional_db). The first order to take
the row lock pauses inside its transaction, so the second is certain to arrive while the
first still holds the item; without ``select_for_update`` both would see it free.
"""

import threading
import time

import pytest
from django.db import connection
from oscar.apps.shipping.methods import Free
from oscar.core.loading import get_class, get_model

from shop.apps.partner.strategy import Selector

from .factories import ProductFactory, SalesPartnerFactory, WarehouseFactory, stock

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")
OrderCreator = get_class("order.utils", "OrderCreator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
UnableToPlaceOrder = get_class("order.exceptions", "UnableToPlaceOrder")


class SlowOrderCreator(OrderCreator):
    """Holds its transaction (and row locks) open a moment after locking."""

    def create_order_model(self, *args, **kwargs):
        time.sleep(0.3)
        return super().create_order_model(*args, **kwargs)


def basket_with(*products):
    basket = Basket.objects.create()
    basket.strategy = Selector().strategy()
    for product in products:
        basket.add_product(product, 1)
    return Basket.objects.get(pk=basket.pk)


def place_concurrently(baskets):
    """Place one order per basket, all at once; ``[order or exception]`` per basket."""
    results = [None] * len(baskets)
    start = threading.Barrier(len(baskets))

    def run(index, basket):
        try:
            basket.strategy = Selector().strategy()
            method = Free()
            charge = method.calculate(basket)
            total = OrderTotalCalculator().calculate(basket, charge)
            start.wait()
            results[index] = SlowOrderCreator().place_order(
                basket=basket, total=total, shipping_method=method, shipping_charge=charge
            )
        except Exception as error:  # the outcome under test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, b)) for i, b in enumerate(baskets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_never_oversell(settings):
    """One test (a transactional test's teardown is slow): the last item, then overlapping baskets."""
    settings.ONEC_SALES_PARTNER_CODE = "site"
    SalesPartnerFactory()
    warehouse = WarehouseFactory(name="Алматы")

    # Two checkouts for the last item: exactly one order, the other a clear refusal.
    product = ProductFactory(title="Последний чайник")
    stock(product, {warehouse: 1})

    results = place_concurrently([basket_with(product), basket_with(product)])

    orders = [r for r in results if isinstance(r, Order)]
    refusals = [r for r in results if isinstance(r, UnableToPlaceOrder)]
    assert len(orders) == 1 and len(refusals) == 1, results
    assert "«Последний чайник» закончился" in str(refusals[0])
    assert Order.objects.count() == 1
    sales = StockRecord.objects.get(partner__code="site", product=product)
    assert (sales.num_in_stock, sales.num_allocated) == (1, 1)

    # Overlapping baskets in opposite line order: locks are taken in pk order, so the
    # two wait for each other instead of deadlocking; one wins both items.
    kettle, iron = ProductFactory(title="Чайник"), ProductFactory(title="Утюг")
    stock(kettle, {warehouse: 1})
    stock(iron, {warehouse: 1})

    results = place_concurrently([basket_with(kettle, iron), basket_with(iron, kettle)])

    assert sum(isinstance(r, Order) for r in results) == 1, results
    assert sum(isinstance(r, UnableToPlaceOrder) for r in results) == 1, results
    assert Order.objects.count() == 2
    allocated = StockRecord.objects.filter(partner__code="site", product__in=[kettle, iron])
    assert sorted(allocated.values_list("num_allocated", flat=True)) == [1, 1]
