"""``manage.py setup_shop``: idempotent, never resets a changed password, prints what to type where."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.management import call_command
from oscar.core.loading import get_model

Partner = get_model("partner", "Partner")
Country = get_model("address", "Country")
SourceType = get_model("payment", "SourceType")

pytestmark = pytest.mark.django_db


def setup_shop():
    out = StringIO()
    call_command("setup_shop", stdout=out)
    return out.getvalue()


def test_setup_shop_creates_a_working_shop(monkeypatch):
    monkeypatch.setenv("SITE_DOMAIN", "shop.example.kz")
    output = setup_shop()

    site = Site.objects.get_current()
    assert site.domain == "shop.example.kz" and site.name == "Магазин"

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.email == "admin@example.com"
    assert admin.check_password("admin")

    onec = get_user_model().objects.get(username="1c")
    assert onec.check_password("1c-exchange")
    assert onec.has_perm("integration_1c.exchange_1c")
    assert not onec.is_staff and not onec.is_superuser

    assert Partner.objects.get(code="site").name == "Интернет-магазин"
    assert list(Country.objects.filter(is_shipping_country=True).values_list("pk", flat=True)) == ["KZ"]
    assert set(SourceType.objects.values_list("name", flat=True)) == {"Наличными при получении", "Счёт на оплату"}

    assert "http://shop.example.kz/" in output
    assert "http://shop.example.kz/dashboard/" in output and "http://shop.example.kz/admin/" in output
    assert "admin / admin" in output and "1c / 1c-exchange" in output
    assert "http://shop.example.kz/1c/exchange" in output


def test_setup_shop_is_idempotent_and_keeps_changed_passwords(monkeypatch):
    setup_shop()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("a-better-password")
    admin.save()

    monkeypatch.setenv("ONEC_EXCHANGE_USER", "exchange")
    monkeypatch.setenv("ONEC_EXCHANGE_PASSWORD", "s3cret-1c")
    monkeypatch.setenv("SHOP_SHIPPING_COUNTRIES", "KZ,RU")
    output = setup_shop()
    setup_shop()

    admin.refresh_from_db()
    assert admin.check_password("a-better-password")
    assert "admin / admin" not in output
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert get_user_model().objects.get(username="exchange").has_perm("integration_1c.exchange_1c")
    assert "exchange / s3cret-1c" in output
    assert Partner.objects.filter(code="site").count() == 1
    assert SourceType.objects.count() == 2
    assert set(Country.objects.filter(is_shipping_country=True).values_list("pk", flat=True)) == {"KZ", "RU"}


def test_unknown_shipping_country_is_refused(monkeypatch):
    monkeypatch.setenv("SHOP_SHIPPING_COUNTRIES", "KZ,XX")
    with pytest.raises(ValueError, match="XX"):
        setup_shop()


def test_demo_gives_the_shop_an_identity_where_the_owner_gave_none(monkeypatch, settings):
    """``make run``'s demo looks like a real shop; an owner's values (admin or environment) stay."""
    from constance import config

    from shop.identity import get_shop_identity

    monkeypatch.delenv("SHOP_NAME", raising=False)
    monkeypatch.delenv("SHOP_PHONE", raising=False)
    monkeypatch.delenv("SHOP_ADDRESS", raising=False)
    monkeypatch.setenv("SHOP_HOURS", "Круглосуточно")
    settings.SHOP_HOURS = "Круглосуточно"
    config.SHOP_EMAIL = ""  # the owner emptied it in the admin

    call_command("setup_shop", "--demo", stdout=StringIO())

    identity = get_shop_identity()
    assert (identity.name, identity.phone, identity.address) == (
        "Торговый дом", "+7 727 355-00-11", "Алматы, пр. Абая, 150",
    )  # fmt: skip
    assert identity.hours == "Круглосуточно" and identity.email == ""
    assert Site.objects.get_current().name == "Торговый дом"

    config.SHOP_NAME = "Стройдом"
    call_command("setup_shop", "--demo", stdout=StringIO())
    assert get_shop_identity().name == "Стройдом"


def test_without_demo_the_identity_stays_empty(monkeypatch):
    from shop.identity import get_shop_identity

    call_command("setup_shop", stdout=StringIO())
    identity = get_shop_identity()
    assert identity.phone == identity.address == identity.hours == ""
