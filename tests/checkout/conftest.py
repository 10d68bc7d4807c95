"""
Checkout fixtures: 1C warehouses, two of them pickup points, products stocked per
warehouse the way the offers import writes them (``tests.stock.factories.stock``).
"""

import pytest
from django.core.cache import cache

from shop.management.commands import setup_shop
from tests.stock.factories import ProductFactory, WarehouseFactory, stock


@pytest.fixture(autouse=True)
def _checkout_settings(settings):
    settings.ONEC_SALES_PARTNER_CODE = "site"
    settings.ONEC_SELLING_WAREHOUSES = []
    settings.ONEC_LOW_STOCK_THRESHOLD = 5
    settings.ONEC_PRICE_TYPE = ""
    settings.ONEC_OLD_PRICE_TYPE = ""
    settings.SHOP_DELIVERY_CHARGE = "1500"
    settings.SHOP_FREE_DELIVERY_FROM = "30000"
    settings.PHONENUMBER_DEFAULT_REGION = "KZ"
    settings.SHOP_ORDER_LOOKUP_ATTEMPTS = 5
    settings.SHOP_ORDER_LOOKUP_WINDOW = 900
    settings.SHOP_PROXY_COUNT = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the look-up limiter counts in the cache
    yield
    cache.clear()


@pytest.fixture
def shop(db):
    setup_shop.setup_sales_partner()
    setup_shop.setup_countries()
    setup_shop.setup_payment_methods()


@pytest.fixture
def points(shop):
    """Two pickup points and one warehouse that is not a pickup point."""
    abaya = WarehouseFactory(
        code="wh-abaya-0001",
        name="Пункт на Абая",
        is_pickup_point=True,
        pickup_address="Алматы, пр. Абая, 150",
        pickup_hours="Пн–Сб 10:00–20:00",
        pickup_map_url="https://2gis.kz/almaty/geo/1",
        pickup_position=1,
    )
    dostyk = WarehouseFactory(
        code="wh-dostyk-0002",
        name="Пункт в ТРЦ Достык",
        is_pickup_point=True,
        pickup_address="Алматы, пр. Достык, 111",
        pickup_hours="Ежедневно 10:00–22:00",
        pickup_position=2,
    )
    central = WarehouseFactory(code="wh-central-0003", name="Центральный склад")
    return abaya, dostyk, central


@pytest.fixture
def kettle_and_iron(points):
    """A kettle at both points, an iron only at the second one (and the central warehouse)."""
    abaya, dostyk, central = points
    kettle = ProductFactory(title="Чайник «Витязь»")
    stock(kettle, {abaya: 3, dostyk: 2, central: 10}, price="12000.00")
    iron = ProductFactory(title="Утюг Philips")
    stock(iron, {dostyk: 1, central: 4}, price="9000.00")
    return kettle, iron
