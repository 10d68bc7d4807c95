"""What managers and owners do in the back office: find products, read orders, change settings."""

from datetime import timedelta
from decimal import Decimal

import pytest
from constance import config
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from integration_1c import conf
from integration_1c.display import order_1c_state
from integration_1c.models import ExchangeSession, OrderExchange, PriceType, ProductPrice, SettingChange

pytestmark = pytest.mark.django_db
Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")


def give(product, code, value):
    attribute, _ = ProductAttribute.objects.get_or_create(
        product_class=product.get_product_class(), code=code, defaults={"name": code, "type": "text"}
    )
    ProductAttributeValue.objects.create(product=product, attribute=attribute, value_text=value)


def found(client, query):
    response = client.get(reverse("dashboard:catalogue-product-list"), {"upc": query})
    return {product.title for product in response.context["products"].data}


def test_dashboard_product_search_by_article_barcode_and_1c_code(manager_client, order_maker):
    drill = order_maker.product(title="Дрель", code="8d2f-1c-code", product_class="Товар")
    give(drill, "article", "DR-500")
    give(drill, "barcode", "4607001234567")
    order_maker.product(title="Пила", product_class="Товар")

    assert found(manager_client, "DR-500") == {"Дрель"}
    assert found(manager_client, "4607001234567") == {"Дрель"}
    assert found(manager_client, "8d2f-1c-code") == {"Дрель"}
    assert found(manager_client, "DR-5") == {"Дрель"}  # a part of an article


def test_a_variant_s_article_finds_its_parent(manager_client, order_maker):
    child = order_maker.variant("parent-1", "size-42", "Кроссовки (42)")
    give(child, "article", "KR-42")

    assert found(manager_client, "KR-42") == {"Кроссовки"}


def test_dashboard_counts_products_and_variants_apart(manager_client, order_maker):
    order_maker.variant("p-1", "a", "Футболка (S)")
    order_maker.variant("p-1", "b", "Футболка (M)")
    order_maker.product(title="Кружка", product_class="Товар")

    page = manager_client.get(reverse("dashboard:index")).content.decode()
    listing = manager_client.get(reverse("dashboard:catalogue-product-list")).content.decode()

    assert "Варианты (размеры, цвета…)" in page
    assert "Товаров: 2 (в продаже: 2), вариантов: 2." in listing


def test_order_lines_show_the_article(manager_client, order_maker):
    product = order_maker.product(title="Дрель", product_class="Товар")
    give(product, "article", "DR-500")
    order = order_maker.place(lines=[(product, 1)])

    page = manager_client.get(reverse("dashboard:order-detail", kwargs={"number": order.number})).content.decode()

    assert '<td class="onec-article">DR-500</td>' in page
    assert "Артикул" in page


def test_the_1c_state_in_plain_words(order_maker):
    order = order_maker.place()
    exchange, _ = OrderExchange.objects.get_or_create(order=order)
    assert order_1c_state(order, exchange)[0] == "ждёт отправки в 1С"

    now = timezone.now()
    exchange.first_sent_at = exchange.last_sent_at = now - timedelta(minutes=5)
    assert order_1c_state(order, exchange, now=now)[0] == "передан в 1С 5\xa0минут назад, ещё не подтверждён"

    exchange.acknowledged_version = exchange.version
    exchange.onec_number = "УТ-000123"
    assert order_1c_state(order, exchange, now=now) == (
        "передан в 1С 5\xa0минут назад, подтверждён; номер в 1С УТ-000123",
        "success",
    )

    exchange.version += 1
    assert order_1c_state(order, exchange, now=now)[0].startswith("изменён после подтверждения 1С")


def test_the_order_list_shows_1c_state_delivery_payment_and_phone_and_filters(manager_client, order_maker):
    waiting = order_maker.place()
    sent = order_maker.place()
    OrderExchange.objects.filter(order=sent).update(
        first_sent_at=timezone.now(), last_sent_at=timezone.now(), acknowledged_version=1, version=1
    )
    url = reverse("dashboard:order-list")

    page = manager_client.get(url).content.decode()
    assert "ждёт отправки в 1С" in page and "подтверждён" in page
    assert "+77011234567" in page
    assert "Способ оплаты" in page and "Доставка" in page

    numbers = lambda **query: {o.number for o in manager_client.get(url, query).context["orders"]}  # noqa: E731
    assert numbers(onec_state="waiting") == {waiting.number}
    assert numbers(onec_state="acknowledged") == {sent.number}
    assert numbers(phone="8 701 123 45 67") == {waiting.number, sent.number}
    assert numbers(phone="8 700 000 00 00") == set()
    assert numbers(delivery="pickup") == set()
    assert numbers(delivery="courier") == {waiting.number, sent.number}


def test_admin_order_list_shows_the_customer_and_money_in_the_shop_currency(manager_client, order_maker):
    product = order_maker.product(title="Дрель", price=Decimal("25990.00"), product_class="Товар")
    order_maker.place(lines=[(product, 1)], guest_email="pokupatel@example.com")

    page = manager_client.get(reverse("admin:order_order_changelist")).content.decode()

    assert "Иван Петров<br><small>pokupatel@example.com</small>" in page
    assert "25\xa0990\xa0₸" in page


def test_dashboard_home_shows_the_last_exchange_and_warns_when_overdue(manager_client, exchange_user, settings):
    page = manager_client.get(reverse("dashboard:index")).content.decode()
    assert 'id="onec-overdue"' in page  # never succeeded

    ExchangeSession.objects.create(
        exchange_type="catalog", user=exchange_user, token="ok", state=ExchangeSession.COMPLETE,
        started_at=timezone.now() - timedelta(minutes=20), finished_at=timezone.now() - timedelta(minutes=10),
    )  # fmt: skip
    page = manager_client.get(reverse("dashboard:index")).content.decode()
    assert 'id="onec-overdue"' not in page
    assert "Завершён" in page

    settings.ONEC_EXCHANGE_EXPECTED_HOURS = 0.1  # six minutes
    page = manager_client.get(reverse("dashboard:index")).content.decode()
    assert 'id="onec-overdue"' in page and "Успешного обмена с 1С не было уже" in page


def test_a_setting_saved_in_the_admin_is_logged_with_who_and_when_and_used_on_the_next_request(
    manager_client, manager
):
    url = reverse("admin:constance_config_changelist")
    page = manager_client.get(url)
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["ONEC_OLD_PRICE_TYPE"] = "Старая цена"
    data["ONEC_ORDER_STATUS_MAP"] = "{}"

    response = manager_client.post(url, data)

    assert response.status_code == 302
    change = SettingChange.objects.get(key="ONEC_OLD_PRICE_TYPE")
    assert (change.old_value, change.new_value, change.user) == ("", "Старая цена", manager)
    assert abs((timezone.now() - change.changed_at).total_seconds()) < 60
    assert conf.get("ONEC_OLD_PRICE_TYPE") == "Старая цена"
    page = manager_client.get(url).content.decode()
    assert "Последние изменения" in page and "Старая цена" in page
    assert "Показывается зачёркнутой рядом с ценой продажи" in page
    log = manager_client.get(reverse("admin:integration_1c_settingchange_changelist")).content.decode()
    assert "Старая цена" in log


def test_a_change_outside_the_admin_is_logged_without_a_user():
    config.SHOP_PHONE = "+7 727 000 00 00"
    change = SettingChange.objects.get(key="SHOP_PHONE")
    assert change.user is None and change.new_value == "+7 727 000 00 00"


def test_changing_the_old_price_type_shows_the_crossed_out_price_on_the_next_page_load(client, settings):
    from tests.storefront.factories import ProductFactory

    settings.ONEC_PRICE_TYPE = "Розничная"
    product = ProductFactory(title="Дрель", stock=(Decimal("20000.00"), 5))
    old = PriceType.objects.create(code="old", name="Старая цена")
    retail = PriceType.objects.create(code="retail", name="Розничная")
    ProductPrice.objects.create(product=product, price_type=retail, price=Decimal("20000.00"))
    ProductPrice.objects.create(product=product, price_type=old, price=Decimal("25000.00"))

    before = client.get(product.get_absolute_url()).content.decode()
    config.ONEC_OLD_PRICE_TYPE = "Старая цена"
    after = client.get(product.get_absolute_url()).content.decode()

    assert 'class="old-price"' not in before
    assert 'class="old-price"' in after and "25\xa0000" in after
