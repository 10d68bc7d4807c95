"""The strategy: price from the selling and group price types, old price, availability wording."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from shop.apps.partner.strategy import Selector

from .factories import (
    ChildProductFactory,
    CustomerGroupPriceTypeFactory,
    GroupFactory,
    ParentProductFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductPriceFactory,
    stock,
)

pytestmark = pytest.mark.django_db


def strategy_for(user=None):
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    return Selector().strategy(request=request, user=request.user)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="buyer", email="buyer@example.com", password="x")


def test_price_is_the_selling_price_of_the_sales_record_tax_inclusive(almaty):
    product = ProductFactory()
    stock(product, {almaty: 7}, price="12990.00")

    info = strategy_for().fetch_for_product(product)

    assert info.stockrecord.partner.code == "site"
    assert info.price.incl_tax == Decimal("12990.00")
    assert info.price.excl_tax == Decimal("12990.00")
    assert info.price.tax == 0
    assert info.price.currency == "KZT"
    assert not info.price.has_old_price


def test_group_price_type_and_highest_priority_group_wins(almaty, user):
    product = ProductFactory()
    stock(product, {almaty: 7}, price="1000.00")
    wholesale = PriceTypeFactory(name="Оптовая")
    dealer = PriceTypeFactory(name="Дилерская")
    ProductPriceFactory(product=product, price_type=wholesale, price=Decimal("800.00"))
    ProductPriceFactory(product=product, price_type=dealer, price=Decimal("700.00"))
    low = CustomerGroupPriceTypeFactory(group=GroupFactory(name="Опт"), price_type=wholesale, priority=1)
    high = CustomerGroupPriceTypeFactory(group=GroupFactory(name="Дилеры"), price_type=dealer, priority=10)

    assert strategy_for(user).fetch_for_product(product).price.incl_tax == Decimal("1000.00")

    user.groups.add(low.group)
    assert strategy_for(user).fetch_for_product(product).price.incl_tax == Decimal("800.00")

    user.groups.add(high.group)
    info = strategy_for(user).fetch_for_product(product)
    assert info.price.incl_tax == Decimal("700.00")
    assert info.price.price_type == "Дилерская"

    # Anonymous shoppers and products without a price of the group's type: selling price.
    assert strategy_for().fetch_for_product(product).price.incl_tax == Decimal("1000.00")
    other = ProductFactory()
    stock(other, {almaty: 1}, price="555.00")
    assert strategy_for(user).fetch_for_product(other).price.incl_tax == Decimal("555.00")


@pytest.mark.parametrize(
    "old, shown",
    [("1500.00", Decimal("1500.00")), ("1000.00", None), ("900.00", None)],
)
def test_old_price_only_when_higher(settings, almaty, old, shown):
    old_type = PriceTypeFactory(name="Старая цена", code="old-price-id")
    product = ProductFactory()
    stock(product, {almaty: 7}, price="1000.00")
    ProductPriceFactory(product=product, price_type=old_type, price=Decimal(old))

    assert strategy_for().fetch_for_product(product).price.old_price is None  # not configured yet

    settings.ONEC_OLD_PRICE_TYPE = "Старая цена"  # by name …
    assert strategy_for().fetch_for_product(product).price.old_price == shown
    settings.ONEC_OLD_PRICE_TYPE = "old-price-id"  # … or by Ид
    assert strategy_for().fetch_for_product(product).price.old_price == shown


@pytest.mark.parametrize(
    "in_stock, allocated, code, message, buyable",
    [
        (20, 0, "instock", "В наличии", True),
        (5, 0, "instock", "В наличии", True),
        (6, 2, "lowstock", "Осталось всего 4 шт.", True),
        (1, 0, "lowstock", "Осталось всего 1 шт.", True),
        (3, 3, "outofstock", "Нет в наличии", False),
        (0, 0, "outofstock", "Нет в наличии", False),
    ],
)
def test_availability_wording_from_sales_record(almaty, in_stock, allocated, code, message, buyable):
    product = ProductFactory()
    stock(product, {almaty: in_stock}, num_allocated=allocated)

    availability = strategy_for().fetch_for_product(product).availability

    assert availability.code == code
    assert str(availability.message) == message
    assert availability.is_available_to_buy is buyable


def test_low_stock_threshold_is_a_setting(settings, almaty):
    product = ProductFactory()
    stock(product, {almaty: 8})
    assert str(strategy_for().fetch_for_product(product).availability.message) == "В наличии"
    settings.ONEC_LOW_STOCK_THRESHOLD = 10
    assert str(strategy_for().fetch_for_product(product).availability.message) == "Осталось всего 8 шт."


def test_more_than_available_is_refused_with_the_number(almaty):
    product = ProductFactory()
    stock(product, {almaty: 3})
    availability = strategy_for().fetch_for_product(product).availability
    assert availability.is_purchase_permitted(3) == (True, "")
    permitted, reason = availability.is_purchase_permitted(4)
    assert not permitted
    assert str(reason) == "Доступно только 3 шт."


def test_hidden_product_and_product_without_sales_record_cannot_be_bought(almaty):
    hidden = ProductFactory(is_public=False)
    stock(hidden, {almaty: 3})
    assert not strategy_for().fetch_for_product(hidden).availability.is_available_to_buy

    no_offer = ProductFactory()
    info = strategy_for().fetch_for_product(no_offer)
    assert info.stockrecord is None
    assert not info.availability.is_available_to_buy
    assert not info.price.exists


def test_parent_price_from_cheapest_variant_in_stock(almaty):
    parent = ParentProductFactory(title="Футболка")
    cheap_sold_out = ChildProductFactory(parent=parent)
    stock(cheap_sold_out, {almaty: 0}, price="500.00")
    mid = ChildProductFactory(parent=parent)
    stock(mid, {almaty: 2}, price="900.00")
    dear = ChildProductFactory(parent=parent)
    stock(dear, {almaty: 9}, price="1200.00")
    ChildProductFactory(parent=parent, is_public=False)

    info = strategy_for().fetch_for_parent(parent)

    assert info.price.incl_tax == Decimal("900.00")
    assert info.price.is_from
    assert info.availability.is_available_to_buy
    assert info.availability.num_variants_available == 2

    for child in (mid, dear):
        stock(child, {almaty: 0}, price=str(strategy_for().fetch_for_product(child).price.incl_tax))
    info = strategy_for().fetch_for_parent(parent)
    assert not info.availability.is_available_to_buy
    assert info.price.incl_tax == Decimal("500.00")  # nothing in stock: the lowest of all
