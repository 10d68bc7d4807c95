"""
Concurrency: shoppers place orders and managers change them while 1C runs
query/success cycles in parallel sessions. At the end every order is acknowledged at
its latest version, each version at most once, and none is lost.
"""

import random
import threading
import time
import uuid
from collections import defaultdict

import pytest
from django.db import close_old_connections, connection
from oscar.core.loading import get_model

from integration_1c.models import ExchangeSession, OrderExchange, OrderExportItem
from integration_1c.services.orders import acknowledge, build_query_answer

Order = get_model("order", "Order")

PLACERS, ORDERS_PER_PLACER, CYCLERS = 3, 8, 2


def in_thread(target, errors):
    def run():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 — reported by the test below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    return threading.Thread(target=run)


def cycle(onec_user):
    session = ExchangeSession.objects.create(
        exchange_type=ExchangeSession.SALE, token=uuid.uuid4().hex, user=onec_user, schema_version="2.08"
    )
    build_query_answer(session)
    time.sleep(random.uniform(0, 0.03))  # 1C stores the answer: orders change meanwhile
    acknowledge(session)


@pytest.mark.django_db(transaction=True)
def test_orders_placed_and_changed_during_exchange_cycles_are_acknowledged_once_each(orders, onec_user):
    products = [orders.product(stock=10_000) for _ in range(4)]
    orders.place(lines=[(products[0], 1)])  # creates the shared country/site rows up front
    errors, placing_done = [], threading.Event()

    def place_and_change():
        mine = []
        for _ in range(ORDERS_PER_PLACER):
            mine.append(orders.place(lines=[(random.choice(products), random.randint(1, 3))]))
            if len(mine) > 1 and random.random() < 0.6:
                candidate = Order.objects.get(pk=random.choice(mine).pk)
                if candidate.status == "Новый":
                    candidate.set_status("Подтверждён")

    def run_cycles():
        while not placing_done.is_set():
            cycle(onec_user)
        cycle(onec_user)

    placers = [in_thread(place_and_change, errors) for _ in range(PLACERS)]
    cyclers = [in_thread(run_cycles, errors) for _ in range(CYCLERS)]
    for thread in placers + cyclers:
        thread.start()
    for thread in placers:
        thread.join()
    placing_done.set()
    for thread in cyclers:
        thread.join()
    assert errors == []

    cycle(onec_user)  # the final exchange

    all_orders = set(Order.objects.values_list("pk", flat=True))
    assert len(all_orders) == 1 + PLACERS * ORDERS_PER_PLACER
    exchanges = {ex.order_id: ex for ex in OrderExchange.objects.all()}
    assert set(exchanges) == all_orders  # none lost
    for exchange in exchanges.values():
        assert exchange.acknowledged_version == exchange.version, exchange
    acknowledged = defaultdict(list)
    for order_id, version in OrderExportItem.objects.filter(acknowledged_at__isnull=False).values_list(
        "order_id", "version"
    ):
        acknowledged[order_id].append(version)
    for order_id, exchange in exchanges.items():
        versions = acknowledged[order_id]
        assert len(versions) == len(set(versions)), (
            f"a version of order {order_id} acknowledged twice: {versions}"
        )
        assert versions.count(exchange.version) == 1  # its latest version, exactly once
    assert sum(ex.version > 1 for ex in exchanges.values()) > 0  # some orders did change
    # The cycles really ran while orders were being placed, not only at the end.
    assert OrderExportItem.objects.values("session").distinct().count() >= 2
