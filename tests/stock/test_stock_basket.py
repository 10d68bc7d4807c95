"""Basket and checkout: no more than is available, re-checks after an exchange, hidden products."""

import pytest
from django.urls import reverse
from oscar.core.loading import get_class, get_model

from .factories import ProductFactory, stock

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
UnableToPlaceOrder = get_class("order.exceptions", "UnableToPlaceOrder")
OrderCreator = get_class("order.utils", "OrderCreator")


def add(client, product, quantity):
    return client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": quantity}, follow=True)


def basket_lines(response):
    basket = response.wsgi_request.basket
    return {line.product_id: line.quantity for line in basket.all_lines()}


def test_adding_more_than_available_is_refused_with_how_many_are(client, almaty):
    product = ProductFactory()
    stock(product, {almaty: 3})

    response = add(client, product, 5)
    assert "Доступно только 3 шт." in response.content.decode()
    assert basket_lines(response) == {}

    response = add(client, product, 2)
    assert basket_lines(response) == {product.pk: 2}
    response = add(client, product, 2)  # 2 in the basket + 2 > 3
    assert "Доступно только 3 шт." in response.content.decode()
    assert basket_lines(response) == {product.pk: 2}


def test_reservations_count_against_what_can_be_added(client, almaty):
    product = ProductFactory()
    stock(product, {almaty: 3}, num_allocated=3)

    response = add(client, product, 1)

    assert "нет в наличии" in response.content.decode()
    assert basket_lines(response) == {}


def test_basket_page_lowers_a_line_after_an_exchange_lowered_stock(client, almaty):
    product = ProductFactory(title="Чайник")
    stock(product, {almaty: 10})
    add(client, product, 5)

    stock(product, {almaty: 2})  # the next exchange
    response = client.get(reverse("basket:summary"))
    html = response.content.decode()

    assert basket_lines(response) == {product.pk: 2}
    assert "«Чайник»: в наличии осталось только 2 шт., количество в корзине уменьшено с 5 до 2." in html

    stock(product, {almaty: 0})
    response = client.get(reverse("basket:summary"))
    assert basket_lines(response) == {}
    assert "«Чайник» закончился и удалён из корзины." in response.content.decode()


def test_every_checkout_step_rechecks_stock_and_sends_back_to_the_basket(client, almaty):
    product = ProductFactory(title="Чайник")
    stock(product, {almaty: 10})
    add(client, product, 5)
    stock(product, {almaty: 2})

    response = client.get(reverse("checkout:index"))
    assert response.status_code == 302 and response.url == reverse("basket:summary")

    response = client.get(response.url)
    assert basket_lines(response) == {product.pk: 2}
    assert "уменьшено с 5 до 2" in response.content.decode()
    assert client.get(reverse("checkout:index")).status_code == 200  # the basket is fine now


def test_hidden_product_is_flagged_and_cannot_be_ordered(client, almaty):
    product = ProductFactory(title="Чайник")
    stock(product, {almaty: 10})
    add(client, product, 1)

    product.is_public = False
    product.save()
    response = client.get(reverse("basket:summary"))
    html = response.content.decode()

    assert basket_lines(response) == {product.pk: 1}  # kept, so the shopper sees what happened
    assert "Товар снят с продажи — удалите его из корзины" in html
    response = client.get(reverse("checkout:index"))
    assert response.status_code == 302 and response.url == reverse("basket:summary")

    basket = Basket.objects.get(pk=response.wsgi_request.basket.pk)
    basket.strategy = response.wsgi_request.strategy
    with pytest.raises(UnableToPlaceOrder, match="снят с продажи"):
        place(basket)


def place(basket):
    from oscar.apps.shipping.methods import Free

    OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
    method = Free()
    charge = method.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    return OrderCreator().place_order(
        basket=basket, total=total, shipping_method=method, shipping_charge=charge
    )
