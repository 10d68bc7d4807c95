"""
In a real browser: the journal page shows an import's progress moving and «Завершён»
after a 2.08 run, and changing the old-price type in the admin shows the crossed-out
price on the next page load.
"""

from datetime import timedelta
from decimal import Decimal

import os

import pytest
from constance import config
from django.utils import timezone

from integration_1c.models import ExchangeFile, ExchangeSession, PriceType, ProductPrice
from integration_1c.selectors import live_key
from tests.conftest import launch_chromium, requires_chromium

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the sync Playwright API runs an event loop
pytestmark = [*requires_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def signed_in(browser, live_server, user, password):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    return page


def test_the_journal_shows_progress_moving_then_complete(browser, live_server, django_user_model, exchange_user):
    from django.core.cache import cache

    django_user_model.objects.create_superuser("boss", "boss@example.com", "Boss-parol-1")
    session = ExchangeSession.objects.create(
        exchange_type="catalog", user=exchange_user, token="b1", schema_version="2.08", folder="catalog/b"
    )
    running = ExchangeFile.objects.create(
        session=session, name="import.xml", kind="catalogue", size=1000, state=ExchangeFile.RUNNING,
        started_at=timezone.now(),
    )  # fmt: skip
    started = timezone.now().timestamp()
    cache.set(live_key(running.pk), {"processed": 100, "bytes_read": 100, "size": 1000, "started": started, "at": 0})
    page = signed_in(browser, live_server, "boss", "Boss-parol-1")
    page.goto(f"{live_server.url}/admin/integration_1c/exchangesession/{session.pk}/change/")
    first = page.locator(".onec-progress").inner_text()

    cache.set(live_key(running.pk), {"processed": 900, "bytes_read": 600, "size": 1000, "started": started, "at": 0})
    page.wait_for_function("document.querySelector('.onec-progress').textContent.includes('60%')", timeout=10000)
    assert first != page.locator(".onec-progress").inner_text()

    ExchangeFile.objects.filter(pk=running.pk).update(state=ExchangeFile.DONE, finished_at=timezone.now(), processed=900)
    ExchangeSession.objects.filter(pk=session.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    page.wait_for_selector("text=Завершён", timeout=15000)


def test_changing_the_old_price_type_shows_the_crossed_out_price(browser, live_server, settings):
    from tests.storefront.factories import ProductFactory

    settings.ONEC_PRICE_TYPE = "Розничная"
    product = ProductFactory(title="Дрель", stock=(Decimal("20000.00"), 5))
    retail = PriceType.objects.create(code="retail", name="Розничная")
    old = PriceType.objects.create(code="old", name="Старая цена")
    ProductPrice.objects.create(product=product, price_type=retail, price=Decimal("20000.00"))
    ProductPrice.objects.create(product=product, price_type=old, price=Decimal("25000.00"))
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(live_server.url + product.get_absolute_url())
    assert page.locator("del.old-price").count() == 0

    config.ONEC_OLD_PRICE_TYPE = "Старая цена"  # what saving the admin page does
    page.reload()
    assert page.locator("del.old-price").first.is_visible()


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_settings_page_fits_the_window(browser, live_server, django_user_model, width):
    """«Настройки магазина» beside the admin's side menu needs no horizontal scroll (it was 1627 px)."""
    django_user_model.objects.create_superuser("boss", "boss@example.com", "Boss-parol-1")
    config.ONEC_ORDER_STATUS_MAP = {"Отгружен со склада в Алматы": "Отправлен", "Закрыт": "Доставлен"}
    config.SHOP_ADDRESS = "Алматы, проспект Абая, 150, торговый центр «Евразия», второй этаж, павильон 214"
    page = signed_in(browser, live_server, "boss", "Boss-parol-1")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/admin/constance/config/")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    field = page.locator("#id_SHOP_ADDRESS").bounding_box()
    assert field["x"] + field["width"] <= width
