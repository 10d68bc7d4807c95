"""
The account's order page says each thing once and as the rest of the shop does: the
delivery in its card (not again below the lines), prices with tax only, «Заказ № …»,
free delivery as «бесплатно» — like the basket, checkout and the e-mails.
"""

import re

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from tests.front.test_front_pages import text_of

from .test_checkout_flow import CONTACTS, add, place

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db

COURIER = {**CONTACTS, "method_code": "courier", "line4": "Алматы", "line1": "ул. Абая, 1, кв. 2"}


@pytest.fixture
def customer_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("olga", "olga@example.kz", "Parol-olga-1"))
    return client


def test_order_page_says_the_delivery_once(customer_client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(customer_client, kettle, 3)  # 36 000 ₸: courier delivery is free
    place(customer_client, COURIER)
    order = Order.objects.get()
    assert order.shipping_incl_tax == 0

    text = text_of(customer_client.get(reverse("customer:order", kwargs={"order_number": order.number})).content.decode())

    assert f"Заказ № {order.number}" in text and "#" not in text
    assert text.count("ул. Абая, 1, кв. 2") == 1
    assert "Способ доставки" not in text and "Адрес доставки" not in text
    assert "без налога" not in text
    assert re.search(r"Доставка бесплатно Сумма заказа 36 000", text), text


def test_basket_says_free_delivery_as_checkout_does(client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(client, kettle, 3)

    text = text_of(client.get(reverse("basket:summary")).content.decode())

    assert "Курьерская доставка бесплатно" in text
    assert not re.search(r"доставка 0\s₸", text)
