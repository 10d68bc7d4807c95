"""Fixtures of the stock-for-shoppers tests: 1C warehouses and a quiet configuration."""

import pytest

from .factories import SalesPartnerFactory, WarehouseFactory


@pytest.fixture(autouse=True)
def _stock_settings(settings):
    """The defaults of integration_1c/conf.py, whatever the environment says."""
    settings.ONEC_SALES_PARTNER_CODE = "site"
    settings.ONEC_SELLING_WAREHOUSES = []
    settings.ONEC_LOW_STOCK_THRESHOLD = 5
    settings.ONEC_PRICE_TYPE = ""
    settings.ONEC_OLD_PRICE_TYPE = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, not strength


@pytest.fixture
def sales_partner(db):
    return SalesPartnerFactory()


@pytest.fixture
def almaty(db):
    return WarehouseFactory(code="wh-almaty-0001", name="Алматы")


@pytest.fixture
def astana(db):
    return WarehouseFactory(code="wh-astana-0002", name="Астана")
