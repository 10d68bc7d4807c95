"""
The sales stock record: 1C's quantities of the selling warehouses minus the shop's
reservations that 1C has not counted yet (integration_1c/services/stock.py).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import OrderFactory, OrderLineFactory

from integration_1c.models import OrderExchange
from integration_1c.services import stock

from .builders import PRICE_TYPES, WAREHOUSES, StockRecord, apply, offer, offers_file, product, stock_of

pytestmark = pytest.mark.django_db

StockAlert = get_model("partner", "StockAlert")


@pytest.fixture
def sales_record():
    apply(product("p1", name="Кеды"))
    offers_file(
        *PRICE_TYPES, *WAREHOUSES, offer("p1", prices={"retail": "100"}, stocks={"wh-a": "5", "wh-b": "5"})
    )
    return StockRecord.objects.get(partner__code="site", partner_sku="p1")


def reserve(record, quantity, *, acknowledged_at=None, status=None):
    """An order line holding ``quantity`` on the sales record, as checkout leaves it."""
    order = OrderFactory(**({"status": status} if status else {}))
    OrderLineFactory(
        order=order, product=record.product, stockrecord=record, quantity=quantity, num_allocated=quantity
    )
    if acknowledged_at is not None:
        OrderExchange.objects.update_or_create(
            order=order, defaults={"acknowledged_at": acknowledged_at, "acknowledged_version": 1}
        )
    return order


def test_sales_record_sums_the_warehouses(sales_record):
    assert (sales_record.num_in_stock, sales_record.num_allocated) == (10, 0)


def test_reservations_1c_has_not_counted_stay_allocated(sales_record):
    session_started = timezone.now()
    reserve(sales_record, 2)  # never sent to 1C
    reserve(sales_record, 1, acknowledged_at=session_started + timedelta(minutes=1))  # acknowledged too late
    reserve(
        sales_record, 4, acknowledged_at=session_started - timedelta(minutes=1)
    )  # in 1C's figures already

    offers_file(offer("p1", stocks={"wh-a": "3", "wh-b": "3"}), counted_before=session_started)

    assert stock_of("p1")["site"] == (6, 3, Decimal("100.00"))


def test_cancelled_orders_and_cancelled_allocations_do_not_count(sales_record):
    reserve(sales_record, 2, status="Отменён")
    order = reserve(sales_record, 3)
    order.lines.update(allocation_cancelled=True)
    reserve(sales_record, 1)

    offers_file(offer("p1", stocks={"wh-a": "1"}), counted_before=timezone.now())

    assert stock_of("p1")["site"][:2] == (1, 1)


def test_recompute_for_the_order_side(sales_record):
    order = reserve(sales_record, 2)
    counted = timezone.now()
    assert stock.recompute_sales_stock([sales_record.product_id], counted_before=counted) == 1
    assert stock_of("p1")["site"][:2] == (10, 2)

    OrderExchange.objects.update_or_create(
        order=order, defaults={"acknowledged_at": counted - timedelta(seconds=1)}
    )
    stock.recompute_sales_stock([sales_record.product_id], counted_before=counted)
    assert stock_of("p1")["site"][:2] == (10, 0)
    assert stock.recompute_sales_stock([sales_record.product_id], counted_before=counted) == 0


def test_prices_only_file_keeps_the_reservations(sales_record):
    reserve(sales_record, 2)
    stock.recompute_sales_stock([sales_record.product_id], counted_before=timezone.now())
    offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "120"}), source="prices.xml")
    assert stock_of("p1")["site"] == (10, 2, Decimal("120.00"))


def test_low_stock_alerts_follow_bulk_updates(sales_record):
    StockRecord.objects.filter(pk=sales_record.pk).update(low_stock_threshold=5)
    offers_file(offer("p1", stocks={"wh-a": "1", "wh-b": "1"}))
    alert = StockAlert.objects.get(stockrecord=sales_record)
    assert alert.status == StockAlert.OPEN

    offers_file(offer("p1", stocks={"wh-a": "9"}))
    alert.refresh_from_db()
    assert alert.status == StockAlert.CLOSED


def test_without_a_threshold_anywhere_a_file_asks_once_and_keeps_no_alerts(sales_record, monkeypatch):
    """
    1C sends no low-stock thresholds; only a manager sets one. Without any, no batch
    reads its sales records for alerts, a read that waited for the batch's stock writes.
    """
    apply(product("p2"), product("p3"))
    asked, synced = [], []
    monkeypatch.setattr(stock, "alerts_possible", lambda: asked.append(1) or False)
    monkeypatch.setattr(stock, "sync_stock_alerts", synced.append)

    offers_file(
        offer("p1", stocks={"wh-a": "1"}), offer("p2", stocks={"wh-a": "2"}), offer("p3", stocks={"wh-a": "3"}),
        batch_size=1,
    )

    assert (len(asked), synced) == (1, [])  # three batches
    assert stock_of("p3")["wh-a"][0] == 3


def test_a_threshold_set_anywhere_makes_alerts_possible(sales_record):
    assert not stock.alerts_possible()
    StockRecord.objects.filter(pk=sales_record.pk).update(low_stock_threshold=5)
    assert stock.alerts_possible()


def test_counted_before_defaults_to_the_last_stock_session(sales_record):
    from integration_1c.models import ExchangeFile, ExchangeSession

    assert stock.stock_counted_at() is None
    session = ExchangeSession.objects.create(exchange_type="catalog", token="t-1")
    ExchangeFile.objects.create(session=session, name="offers.xml", kind="offers", state=ExchangeFile.DONE)
    assert stock.stock_counted_at() == session.started_at


def test_a_cancellation_on_the_site_frees_the_stock_at_once(sales_record):
    """A manager cancels in the dashboard (Oscar's set_status): no exchange needed to sell it again."""
    from integration_1c.selectors import cancelled_status

    order = reserve(sales_record, 3)
    stock.recompute_sales_stock([sales_record.product_id])
    assert stock_of("p1")["site"][:2] == (10, 3)

    order.set_status(cancelled_status())
    assert stock_of("p1")["site"][:2] == (10, 0)

    order.set_status(order.status)  # unchanged: nothing to do
    assert stock_of("p1")["site"][:2] == (10, 0)
