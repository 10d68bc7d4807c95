"""
Where people see an order's state: the customer's account (list and order page) and
the guest's page from the email link show the current status and its history in
Russian; the dashboard order page and the Django admin show the 1C state.
"""

import pytest
from django.urls import reverse
from oscar.test.factories import UserFactory

from integration_1c.models import OrderExchange
from integration_1c.services.orders import build_query_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(username="manager", is_staff=True, is_superuser=True)


@pytest.fixture
def shipped_order(orders, customer):
    order = orders.place(user=customer)
    order.set_status("Подтверждён")
    order.set_status("Отправлен")
    OrderExchange.objects.filter(order=order).update(
        onec_number="ЗК-0042", tracking_number="KZ123456789", shipment_number="РТ-7", posted=True
    )
    return order


def test_account_order_page_shows_status_meaning_tracking_and_history(client, customer, shipped_order):
    client.force_login(customer)
    page = client.get(
        reverse("customer:order", kwargs={"order_number": shipped_order.number})
    ).content.decode()

    assert "Статус заказа" in page
    assert 'order-status-current">Отправлен<' in page
    assert "Заказ передан в доставку и уже едет к вам." in page
    assert "Номер для отслеживания: <strong>KZ123456789</strong>" in page
    history = page[page.index("История статусов") :]
    assert history.index("Новый") < history.index("Подтверждён") < history.index("Отправлен")


def test_account_order_list_shows_each_status(client, customer, shipped_order, orders):
    other = orders.place(user=customer)
    client.force_login(customer)
    page = client.get(reverse("customer:order-list")).content.decode()

    assert "<th>Статус</th>" in page
    assert 'order-status-current">Отправлен<br>' in page
    assert f">{other.number}<" in page and 'order-status-current">Новый<' in page


def test_guest_sees_the_same_through_the_email_link(client, orders):
    order = orders.place(guest_email="guest@example.kz")
    order.set_status("Подтверждён")
    url = reverse(
        "customer:anon-order", kwargs={"order_number": order.number, "hash": order.verification_hash()}
    )

    form = client.get(url, follow=True)  # Oscar asks for the order's email first
    assert form.redirect_chain
    response = client.post(form.redirect_chain[-1][0], {"email": "guest@example.kz"}, follow=True)

    page = response.content.decode()
    assert 'order-status-current">Подтверждён<' in page
    assert "Заказ подтверждён, мы начинаем его собирать." in page
    assert "История статусов" in page


def test_dashboard_order_page_shows_the_1c_state(client, staff, shipped_order):
    client.force_login(staff)
    page = client.get(
        reverse("dashboard:order-detail", kwargs={"number": shipped_order.number})
    ).content.decode()

    block = page[page.index('id="order-1c-state"') :]
    assert "Обмен с 1С" in block
    assert "ЗК-0042" in block and "KZ123456789" in block and "проведён" in block
    assert "ждёт отправки в 1С" in block  # the state in a manager's words
    assert (
        page.index("fa-shopping-cart") < page.index('id="order-1c-state"') < page.index("tabbable dashboard")
    )


def test_admin_lists_filters_and_resends(client, staff, orders, make_session):
    sent, waiting = orders.place(), orders.place()
    session = make_session()
    build_query_answer(session)
    from integration_1c.services.orders import acknowledge

    acknowledge(session)
    client.force_login(staff)
    changelist = reverse("admin:integration_1c_orderexchange_changelist")

    due_page = client.get(changelist, {"acknowledged": "no"}).content.decode()
    assert waiting.number not in due_page  # both were acknowledged
    response = client.post(
        changelist,
        {"action": "send_again", "_selected_action": [OrderExchange.objects.get(order=sent).pk]},
        follow=True,
    )
    assert "Отправить в 1С повторно" in client.get(changelist).content.decode()
    assert "повторной отправке в 1С: 1" in response.content.decode()
    due_page = client.get(changelist, {"acknowledged": "no"}).content.decode()
    assert f">{sent.number}<" in due_page and f">{waiting.number}<" not in due_page
    assert f">{sent.number}<" in client.get(changelist, {"due": "yes"}).content.decode()
    for params in ({"has_onec_number": "no"}, {"sent": "yes"}, {"due": "no"}, {"q": sent.number}):
        assert client.get(changelist, params).status_code == 200
    detail = client.get(
        reverse("admin:integration_1c_orderexchange_change", args=[OrderExchange.objects.get(order=sent).pk])
    )
    assert "подтверждено" in detail.content.decode()
