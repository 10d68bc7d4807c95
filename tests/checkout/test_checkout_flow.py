"""
The three-step checkout: contacts and delivery (courier address or a pickup point with
its stock of the basket), payment, confirmation; what the order records.
"""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_model

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db

CONTACTS = {"first_name": "Айгерим", "last_name": "Сапарова", "phone_number": "8 701 123 45 67"}


def add(client, product, quantity=1):
    return client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": quantity}, follow=True)


def place(client, delivery, payment="cash-on-delivery"):
    response = client.post(reverse("checkout:index"), delivery)
    assert response.status_code == 302, response.context["form"].errors
    client.post(reverse("checkout:preview"), {"payment_method": payment})
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})
    assert response["Location"] == reverse("checkout:thank-you"), response.context and response.context.get("error")
    return client.get(reverse("checkout:thank-you")).content.decode()


def test_pickup_points_show_what_each_has_of_the_basket(client, kettle_and_iron):
    kettle, iron = kettle_and_iron
    add(client, kettle, 2)
    add(client, iron, 1)

    response = client.get(reverse("checkout:index"))
    html = response.content.decode()
    abaya, dostyk = response.context["pickup_options"]
    assert abaya.point.name == "Пункт на Абая" and not abaya.is_complete
    assert [(m.title, m.wanted, m.available) for m in abaya.missing] == [("Утюг Philips", 1, 0)]
    assert dostyk.is_complete
    assert "«Утюг Philips»: нет в этом пункте" in html
    assert "Весь заказ есть в наличии" in html
    assert "Центральный склад" not in html  # a warehouse, not a pickup point
    # The complete point is preselected; the courier price and free threshold are shown before the choice.
    assert response.context["form"].initial["pickup_point"] == "wh-dostyk-0002"
    # 2 × 12 000 + 9 000 reaches the free-delivery threshold.
    assert "Бесплатно: сумма заказа от 30\u00a0000\u00a0₸." in html
    assert "Пн–Сб 10:00–20:00" in html and "https://2gis.kz/almaty/geo/1" in html


def test_partial_stock_at_a_point_says_how_much(client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(client, kettle, 3)
    abaya, dostyk = client.get(reverse("checkout:index")).context["pickup_options"]
    assert abaya.is_complete
    assert [(m.wanted, m.available) for m in dostyk.missing] == [(3, 2)]


def test_pickup_order_asks_no_address_and_records_the_point(client, kettle_and_iron):
    kettle, iron = kettle_and_iron
    add(client, kettle, 1)
    add(client, iron, 1)

    # No address for pickup: the courier fields are not required.
    page = place(
        client,
        {**CONTACTS, "guest_email": "guest@example.kz", "method_code": "pickup", "pickup_point": "wh-dostyk-0002"},
    )

    order = Order.objects.get()
    assert order.shipping_code == "pickup" and order.shipping_incl_tax == 0
    assert order.pickup_point.code == "wh-dostyk-0002"
    assert (order.pickup_point_code, order.pickup_point_name) == ("wh-dostyk-0002", "Пункт в ТРЦ Достык")
    assert order.pickup_point_address == "Алматы, пр. Достык, 111"
    assert str(order.shipping_address.phone_number) == "+77011234567"
    assert order.shipping_address.first_name == "Айгерим"
    assert "Пункт в ТРЦ Достык" in page and "пр. Достык, 111" in page and "Наличными при получении" in page

    [email] = mail.outbox
    assert email.subject.startswith(f"Заказ № {order.number} принят")
    assert "Самовывоз из пункта: Пункт в ТРЦ Достык" in email.body and "Адрес: Алматы, пр. Достык, 111" in email.body
    assert "Оплата: Наличными при получении" in email.body and "+77011234567" in email.body
    html = email.alternatives[0][0]
    assert "Пункт в ТРЦ Достык" in html and "Ежедневно 10:00–22:00" in html


def test_pickup_needs_a_point(client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(client, kettle)
    response = client.post(
        reverse("checkout:index"), {**CONTACTS, "guest_email": "g@example.kz", "method_code": "pickup"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["pickup_point"] == ["Выберите пункт самовывоза."]
    response = client.post(
        reverse("checkout:index"),
        {**CONTACTS, "guest_email": "g@example.kz", "method_code": "pickup", "pickup_point": "wh-central-0003"},
    )
    assert "pickup_point" in response.context["form"].errors  # a warehouse that is not a pickup point


def test_courier_order_asks_for_the_address(client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(client, kettle)
    response = client.post(
        reverse("checkout:index"), {**CONTACTS, "guest_email": "g@example.kz", "method_code": "courier"}
    )
    errors = response.context["form"].errors
    assert errors["line4"] == ["Укажите город."] and errors["line1"] == ["Укажите улицу, дом и квартиру."]

    page = place(
        client,
        {
            **CONTACTS,
            "guest_email": "g@example.kz",
            "method_code": "courier",
            "line4": "Алматы",
            "line1": "ул. Кабанбай батыра, 5, кв. 12",
            "notes": "Домофон 12",
        },
        payment="bank-invoice",
    )
    order = Order.objects.get()
    assert order.shipping_code == "courier" and order.shipping_incl_tax == Decimal("1500.00")
    assert not order.pickup_point_code and order.pickup_point is None
    assert order.shipping_address.line1 == "ул. Кабанбай батыра, 5, кв. 12"
    assert "Кабанбай батыра" in page and "Счёт на оплату" in page
    assert "Доставка курьером по адресу: Алматы, ул. Кабанбай батыра, 5, кв. 12" in mail.outbox[0].body
    # The guest follows the order from the thank-you page without typing the email again.
    follow = reverse("customer:anon-order", kwargs={"order_number": order.number, "hash": order.verification_hash()})
    assert follow in page
    assert client.get(follow).status_code == 200


def test_phone_is_required_and_checked(client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(client, kettle)
    data = {**CONTACTS, "guest_email": "g@example.kz", "method_code": "pickup", "pickup_point": "wh-abaya-0001"}
    response = client.post(reverse("checkout:index"), {**data, "phone_number": ""})
    assert response.context["form"].errors["phone_number"] == [
        "Укажите телефон: мы позвоним или напишем по заказу."
    ]
    response = client.post(reverse("checkout:index"), {**data, "phone_number": "12345"})
    assert "Укажите номер, по которому можно позвонить" in response.context["form"].errors["phone_number"][0]
    assert client.get(reverse("checkout:payment-details"))["Location"] == reverse("checkout:index")


def test_every_step_shows_the_basket_summary_and_three_steps(client, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    add(client, kettle, 2)
    for url in (reverse("checkout:index"),):
        html = client.get(url).content.decode()
        assert 'id="basket-summary"' in html and "Чайник «Витязь»" in html
    client.post(
        reverse("checkout:index"),
        {**CONTACTS, "guest_email": "g@example.kz", "method_code": "pickup", "pickup_point": "wh-abaya-0001"},
    )
    html = client.get(reverse("checkout:payment-details")).content.decode()
    assert 'id="basket-summary"' in html and "24\u00a0000\u00a0₸" in html
    client.post(reverse("checkout:preview"), {"payment_method": "cash-on-delivery"})
    html = client.get(reverse("checkout:preview")).content.decode()
    assert 'id="basket-summary"' in html and 'id="pickup-summary"' in html and "Пункт на Абая" in html
    for step in ("Контакты и доставка", "Оплата", "Подтверждение"):
        assert step in html
    assert "4." not in html.split('class="checkout-steps"')[1].split("</nav>")[0]


def test_pickup_is_not_offered_without_pickup_points(client, shop):
    from tests.stock.factories import ProductFactory, WarehouseFactory, stock

    product = ProductFactory()
    stock(product, {WarehouseFactory(): 5})
    add(client, product)
    html = client.get(reverse("checkout:index")).content.decode()
    assert 'value="courier"' in html and 'value="pickup"' not in html


def test_order_pages_show_point_and_payment(client, kettle_and_iron, django_user_model):
    kettle, _iron = kettle_and_iron
    user = django_user_model.objects.create_user("buyer", "buyer@example.kz", "pass")
    client.force_login(user)
    add(client, kettle)
    place(client, {**CONTACTS, "method_code": "pickup", "pickup_point": "wh-abaya-0001"})
    order = Order.objects.get()
    assert order.user == user
    assert not user.addresses.exists()  # the point's address is not the customer's

    html = client.get(reverse("customer:order", kwargs={"order_number": order.number})).content.decode()
    assert "Пункт на Абая" in html and "Наличными при получении" in html

    staff = django_user_model.objects.create_superuser("boss", "boss@example.kz", "pass")
    client.force_login(staff)
    html = client.get(reverse("dashboard:order-detail", kwargs={"number": order.number})).content.decode()
    assert 'id="order-delivery-payment"' in html and "Пункт на Абая" in html and "wh-abaya-0001" in html
    assert "Наличными при получении" in html and "+77011234567" in html
    html = client.get(reverse("admin:order_order_change", args=[order.pk])).content.decode()
    assert "Пункт на Абая" in html and "Наличными при получении" in html and "+77011234567" in html
    html = client.get(reverse("admin:order_order_changelist")).content.decode()
    assert "Пункт на Абая" in html


def test_partner_admin_marks_pickup_points(client, points, django_user_model):
    staff = django_user_model.objects.create_superuser("boss", "boss@example.kz", "pass")
    client.force_login(staff)
    with translation.override("ru"):
        html = client.get(reverse("admin:partner_partner_changelist")).content.decode()
    assert "Пункт самовывоза" in html and "Пункт на Абая" in html
    abaya = points[0]
    html = client.get(reverse("admin:partner_partner_change", args=[abaya.pk])).content.decode()
    assert "Адрес пункта самовывоза" in html and "Часы работы" in html and "Ссылка на карту" in html
