"""
Words a shopper reads where Oscar's Russian gets the sense wrong: a person's name is
«Имя», not an object's «Название»; the login error names the e-mail field; dashes.
"""

import pytest
from django.urls import reverse

from .test_front_pages import html_of, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(django_user_model):
    return django_user_model.objects.create_user(
        "olga", "olga@example.kz", "Parol-olga-1", first_name="Ольга", last_name="Ким"
    )


def test_profile_names_the_customer(client, customer):
    client.force_login(customer)
    text = text_of(html_of(client, reverse("customer:profile-view")))
    assert "Имя Ольга Ким" in text
    assert "Название" not in text


def test_a_guest_review_asks_for_a_name(client, catalogue):
    html = html_of(client, reverse("catalogue:reviews-add", kwargs={
        "product_slug": catalogue.drill.slug, "product_pk": catalogue.drill.pk}))  # fmt: skip
    label = html.split('for="id_name"', 1)[1].split("</label>", 1)[0]
    assert text_of(label.split(">", 1)[1]) == "Имя"
    assert "Название" not in text_of(html)


def test_dashboard_order_names_the_customer(client, django_user_model, customer):
    from tests.orders.conftest import OrderMaker

    maker = OrderMaker()
    order = maker.place(lines=[(maker.product(title="Дрель"), 1)], user=customer)
    staff = django_user_model.objects.create_superuser("boss", "boss@example.kz", "Parol-boss-1")
    client.force_login(staff)
    text = text_of(html_of(client, reverse("dashboard:order-detail", kwargs={"number": order.number})))
    customer_table = text.split("Информация о клиенте", 1)[1][:60]
    assert customer_table.split()[0] == "Имя", customer_table


def test_wrong_password_names_the_email_field(client, customer):
    response = client.post(
        reverse("customer:login"),
        {"login-username": "olga@example.kz", "login-password": "neverno", "login_submit": "1"},
    )
    text = text_of(response.content.decode())
    assert "Мы нашли ошибки — проверьте сообщения ниже и попробуйте снова" in text
    assert "Неверный e-mail или пароль." in text
    assert "имя пользователя" not in text
