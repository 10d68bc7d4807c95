"""Settings saved in the admin (django-constance) win over the environment from the next read on."""

import pytest
from constance import config
from django import forms

from integration_1c import conf
from shop.forms import JSONObjectField
from shop.identity import get_shop_identity

pytestmark = pytest.mark.django_db


def test_environment_value_until_one_is_saved(settings):
    settings.ONEC_OLD_PRICE_TYPE = "Старая цена"
    assert conf.get("ONEC_OLD_PRICE_TYPE") == "Старая цена"
    config.ONEC_OLD_PRICE_TYPE = "Розничная до скидки"
    assert conf.get("ONEC_OLD_PRICE_TYPE") == "Розничная до скидки"


def test_saved_value_seen_by_another_process_within_the_snapshot(settings, monkeypatch):
    assert conf.get("ONEC_PRICE_TYPE") == settings.ONEC_PRICE_TYPE
    # Another process saved it: this one's snapshot is not told, it reads again when it lapses.
    from constance.models import Constance
    from constance.codecs import dumps

    Constance.objects.create(key="ONEC_PRICE_TYPE", value=dumps("Оптовая"))
    monkeypatch.setattr(conf, "SNAPSHOT_SECONDS", 0)
    assert conf.get("ONEC_PRICE_TYPE") == "Оптовая"


def test_selling_warehouses_typed_as_text_become_a_list():
    config.ONEC_SELLING_WAREHOUSES = "Склад 1, Магазин на Абая\nСклад 3,"
    assert conf.get("ONEC_SELLING_WAREHOUSES") == ["Склад 1", "Магазин на Абая", "Склад 3"]


def test_selling_warehouses_from_the_environment_stay_a_list(settings):
    settings.ONEC_SELLING_WAREHOUSES = ["a", "b"]
    assert conf.get("ONEC_SELLING_WAREHOUSES") == ["a", "b"]


def test_status_map_is_a_mapping():
    config.ONEC_ORDER_STATUS_MAP = {"Отгружен": "Отправлен"}
    assert conf.get("ONEC_ORDER_STATUS_MAP") == {"Отгружен": "Отправлен"}


def test_settings_outside_the_database_come_from_django_settings(settings):
    settings.ONEC_FILE_LIMIT = 1234
    assert conf.get("ONEC_FILE_LIMIT") == 1234


def test_status_map_field_accepts_objects_only():
    field = JSONObjectField(required=False)
    assert field.clean('{"Отгружен": "Отправлен"}') == {"Отгружен": "Отправлен"}
    assert field.clean("") == {}
    with pytest.raises(forms.ValidationError):
        field.clean('["Отгружен"]')


def test_identity_from_the_admin_on_every_page(client, settings):
    settings.SHOP_NAME = "Магазин из окружения"
    assert get_shop_identity().name == "Магазин из окружения"
    config.SHOP_NAME = "Инструменты Алматы"
    config.SHOP_PHONE = "+7 (727) 355-00-11"
    response = client.get("/")
    assert response.context["shop_identity"].name == "Инструменты Алматы"
    assert response.context["shop_identity"].phone_href == "tel:+77273550011"
    assert str(response.context["shop_name"]) == "Инструменты Алматы"


def test_postgresql_connections_cost_random_reads_as_ssd_and_memory_do():
    """``DATABASE_RANDOM_PAGE_COST`` (default 1.1): a search's filter counts read its rows by key, not the whole listing."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert float(cursor.fetchone()[0]) == 1.1
