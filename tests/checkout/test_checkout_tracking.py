"""
A guest finds an order by its number and the email or phone given at checkout; the
look-up is rate limited (Django's cache) with a clear Russian message.
"""

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from .test_checkout_flow import CONTACTS, add, place

Order = get_model("order", "Order")
OrderStatusChange = get_model("order", "OrderStatusChange")

pytestmark = pytest.mark.django_db


@pytest.fixture
def guest_order(client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(client, kettle)
    place(
        client,
        {**CONTACTS, "guest_email": "Guest@Example.kz", "method_code": "pickup", "pickup_point": "wh-abaya-0001"},
    )
    client.cookies.clear()  # another visit, without the checkout's session
    order = Order.objects.get()
    order.set_status("Подтверждён")
    return order


def lookup(client, number, contact, **extra):
    return client.post(reverse("order-lookup"), {"number": number, "contact": contact}, **extra)


@pytest.mark.parametrize("contact", ["+7 701 123 45 67", "87011234567", "guest@example.kz"])
def test_guest_finds_the_order_by_number_and_phone_or_email(client, guest_order, contact):
    response = lookup(client, guest_order.number, contact)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "customer:anon-order", kwargs={"order_number": guest_order.number, "hash": guest_order.verification_hash()}
    )
    html = client.get(response["Location"]).content.decode()
    assert "Пункт на Абая" in html and "Алматы, пр. Абая, 150" in html
    assert "Наличными при получении" in html
    change = OrderStatusChange.objects.get(order=guest_order)
    assert "История статусов" in html and "Подтверждён" in html
    assert change.date_created.astimezone().strftime("%d.%m.%Y") in html
    assert 'class="line-status">Подтверждён<' in html  # line statuses, in Russian


def test_wrong_contact_finds_nothing(client, guest_order):
    response = lookup(client, guest_order.number, "+7 702 000 00 00")
    assert response.status_code == 200
    assert "Заказ с таким номером и таким email или телефоном не найден" in response.content.decode()
    response = lookup(client, "999999", "guest@example.kz")
    assert response.status_code == 200


def test_lookups_are_limited_per_client(client, guest_order, settings):
    settings.SHOP_ORDER_LOOKUP_ATTEMPTS = 3
    for attempt in range(2):
        assert lookup(client, f"10000{attempt}", "guest@example.kz").status_code == 200
    response = lookup(client, "100009", "guest@example.kz")  # the third failure reaches the limit
    assert response.status_code == 429
    assert "Слишком много попыток найти заказ. Попробуйте снова через 15 мин." in response.content.decode()
    # Even the right number and phone are refused until the window passes…
    assert lookup(client, guest_order.number, "+77011234567").status_code == 429
    # …for this client only.
    other = lookup(client, guest_order.number, "+77011234567", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_one_order_is_limited_across_clients(client, guest_order, settings):
    settings.SHOP_ORDER_LOOKUP_ATTEMPTS = 3
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        lookup(client, guest_order.number, "+77020000000", REMOTE_ADDR=address)
    response = lookup(client, guest_order.number, "+77011234567", REMOTE_ADDR="10.0.0.4")
    assert response.status_code == 429


def test_client_behind_a_proxy_is_the_forwarded_address(client, guest_order, settings):
    settings.SHOP_ORDER_LOOKUP_ATTEMPTS = 2
    settings.SHOP_PROXY_COUNT = 1
    for _ in range(2):
        lookup(client, "1", "a@b.kz", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert lookup(client, "2", "a@b.kz", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Another shopper behind the same nginx is not blocked.
    assert lookup(client, guest_order.number, "+77011234567", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_lookup_page_and_email_link_form_are_russian(client, guest_order):
    html = client.get(reverse("order-lookup")).content.decode()
    assert "Где мой заказ?" in html and "Email или телефон, указанные в заказе" in html
    url = reverse(
        "customer:anon-order-form",
        kwargs={"order_number": guest_order.number, "hash": guest_order.verification_hash()},
    )
    html = client.get(url).content.decode()
    assert "Чтобы открыть заказ, укажите email" in html and "Enter the following" not in html
