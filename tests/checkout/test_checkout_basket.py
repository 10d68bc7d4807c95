"""Adding more than is available says how many are already in the basket; the product page knows the basket."""

import pytest
from django.urls import reverse

from tests.stock.factories import ProductFactory, WarehouseFactory, stock

from .test_checkout_flow import add

pytestmark = pytest.mark.django_db


@pytest.fixture
def kettle(shop):
    product = ProductFactory(title="Чайник")
    stock(product, {WarehouseFactory(name="Алматы"): 3})
    return product


def test_refusal_names_what_is_already_in_the_basket(client, kettle):
    add(client, kettle, 2)
    html = add(client, kettle, 2).content.decode()
    assert "Доступно только 3 шт., в корзине уже 2 шт.: можно добавить ещё 1 шт." in html
    add(client, kettle, 1)
    html = add(client, kettle, 1).content.decode()
    assert "Доступно только 3 шт., и все они уже в вашей корзине." in html


def test_product_page_takes_the_basket_into_account(client, kettle):
    add(client, kettle, 2)
    html = client.get(kettle.get_absolute_url()).content.decode()
    assert "Уже в корзине: 2 шт.; можно добавить ещё 1 шт." in html
    assert 'max="1"' in html
    add(client, kettle, 1)
    html = client.get(kettle.get_absolute_url()).content.decode()
    assert "Все доступные 3 шт. уже в вашей корзине." in html
    assert 'id="add_to_basket_form"' not in html
