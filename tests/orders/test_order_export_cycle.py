"""
``mode=query`` / ``mode=success``: 1C acknowledges exactly what it was sent, orders
placed or changed in between go out again, nothing is acknowledged twice, and site
changes (never 1C's) make an order due again.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from lxml import etree
from oscar.core.loading import get_model

from integration_1c.models import OrderExchange, OrderExportItem
from integration_1c.selectors import orders_due_for_export
from integration_1c.services.orders import acknowledge, build_query_answer, changes_from_1c, resend

pytestmark = pytest.mark.django_db

NS = {"c": "urn:1C.ru:commerceml_2"}
PaymentEventType = get_model("order", "PaymentEventType")


def sent_numbers(data):
    root = etree.fromstring(data.removeprefix(b"\xef\xbb\xbf"))
    return sorted(root.xpath("c:Документ/c:Ид/text()", namespaces=NS))


def state(order):
    return OrderExchange.objects.values_list("version", "acknowledged_version").get(order=order)


def test_placed_order_is_due_at_version_one(orders):
    order = orders.place()
    assert state(order) == (1, 0)
    assert list(orders_due_for_export()) == [order]


def test_success_acknowledges_exactly_the_last_answer(orders, make_session):
    session = make_session()
    first, second = orders.place(), orders.place()
    assert sent_numbers(build_query_answer(session)[0]) == sorted([first.number, second.number])

    # Between query and success: a new order, and a manager confirms the first one.
    third = orders.place()
    first.set_status("Подтверждён")

    assert acknowledge(session) == 2
    assert state(first) == (2, 1)  # 1C has version 1; version 2 must still go out
    assert state(second) == (1, 1)
    assert state(third) == (1, 0)
    assert sent_numbers(build_query_answer(session)[0]) == sorted([first.number, third.number])


def test_without_success_the_same_orders_go_out_again(orders, make_session):
    session = make_session()
    order = orders.place()
    first_answer = sent_numbers(build_query_answer(session)[0])
    second_answer = sent_numbers(build_query_answer(session)[0])

    assert first_answer == second_answer == [order.number]
    assert OrderExportItem.objects.filter(order=order).count() == 2
    assert acknowledge(session) == 1
    assert OrderExportItem.objects.filter(order=order, acknowledged_at__isnull=False).count() == 1
    assert sent_numbers(build_query_answer(session)[0]) == []


def test_repeated_success_confirms_nothing_more(orders, make_session):
    session = make_session()
    orders.place()
    build_query_answer(session)
    assert acknowledge(session) == 1
    orders.place()  # placed after the answer: not in it
    assert acknowledge(session) == 0
    assert len(list(orders_due_for_export())) == 1


def test_sent_and_acknowledged_times_are_recorded(orders, make_session):
    session = make_session()
    order = orders.place()
    query_time = timezone.now() - timedelta(minutes=5)
    build_query_answer(session, now=query_time)
    build_query_answer(session)
    exchange = OrderExchange.objects.get(order=order)
    assert exchange.first_sent_at == query_time
    assert exchange.last_sent_at > query_time
    assert exchange.acknowledged_at is None

    acknowledge(session)
    exchange.refresh_from_db()
    assert exchange.acknowledged_at >= exchange.last_sent_at

    first_acknowledgement = exchange.acknowledged_at
    order.set_status("Подтверждён")
    build_query_answer(session)
    acknowledge(session)
    exchange.refresh_from_db()
    assert exchange.acknowledged_version == 2
    assert exchange.acknowledged_at == first_acknowledgement  # since when 1C's stock includes the order


def test_success_after_a_new_checkauth_confirms_the_previous_sessions_answer(orders, make_session, onec_user):
    old_session = make_session()
    order = orders.place()
    build_query_answer(old_session)

    new_session = make_session()  # 1C re-authenticated, then sent success
    assert acknowledge(new_session) == 1
    assert state(order) == (1, 1)


def test_fallback_ignores_other_users_and_old_answers(orders, make_session):
    from oscar.test.factories import UserFactory

    other_client = make_session(user=UserFactory(username="another-1c"))
    order = orders.place()
    build_query_answer(other_client)
    assert acknowledge(make_session()) == 0  # a different 1C user's answer

    stale = make_session()
    build_query_answer(stale, now=timezone.now() - timedelta(hours=5))
    assert acknowledge(make_session()) == 0  # too old to be the answer 1C means
    assert state(order) == (1, 0)


def test_an_order_sent_in_two_sessions_is_acknowledged_once(orders, make_session):
    first, second = make_session(), make_session()
    order = orders.place()
    build_query_answer(first)
    build_query_answer(second)

    assert acknowledge(first) == 1
    assert acknowledge(second) == 0  # that version is already confirmed
    assert OrderExportItem.objects.filter(order=order, acknowledged_at__isnull=False).count() == 1


def test_export_from_status_waits_for_the_call_centre(settings, orders, make_session):
    settings.ONEC_ORDER_EXPORT_FROM_STATUS = "Подтвержден"  # spelled without ё on purpose
    session = make_session()
    new, confirmed, cancelled = orders.place(), orders.place(), orders.place()
    confirmed.set_status("Подтверждён")
    cancelled.set_status("Подтверждён")
    cancelled.set_status("Отменён")

    assert sent_numbers(build_query_answer(session)[0]) == sorted([confirmed.number, cancelled.number])
    acknowledge(session)
    new.set_status("Подтверждён")
    assert sent_numbers(build_query_answer(session)[0]) == [new.number]


def test_site_changes_bump_the_version(orders):
    order = orders.place()

    order.set_status("Подтверждён")  # cascades to the lines: still one change for 1C
    assert state(order)[0] == 2
    line = order.lines.get()
    line.set_status("Собирается")
    assert state(order)[0] == 3
    address = order.shipping_address
    address.line1 = "ул. Толе би, 5"
    address.save()
    assert state(order)[0] == 4
    event_type = PaymentEventType.objects.create(name="Оплачен")
    order.payment_events.create(event_type=event_type, amount=order.total_incl_tax)
    assert state(order)[0] == 5
    line.quantity = 3
    line.save()
    assert state(order)[0] == 6
    line.num_allocated = 0  # stock bookkeeping is not 1C's business
    line.save()
    assert state(order)[0] == 6


def test_changes_from_1c_do_not_bump_the_version(orders):
    order = orders.place()
    with changes_from_1c():
        order.set_status("Подтверждён")
        order.lines.get().set_status("Собирается")
    assert state(order) == (1, 0)


def test_orders_placed_before_the_integration_are_registered_by_the_query(orders, make_session):
    order = orders.place()
    OrderExchange.objects.filter(order=order).delete()

    assert sent_numbers(build_query_answer(make_session())[0]) == [order.number]
    assert state(order) == (1, 0)


def test_resend_makes_acknowledged_orders_due(orders, make_session):
    session = make_session()
    order = orders.place()
    build_query_answer(session)
    acknowledge(session)
    assert not list(orders_due_for_export())

    assert resend(OrderExchange.objects.filter(order=order)) == 1
    assert sent_numbers(build_query_answer(session)[0]) == [order.number]
