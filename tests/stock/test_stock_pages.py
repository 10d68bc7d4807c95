"""The product page and the product card: price, stock per warehouse, variants, JSON-LD."""

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from .factories import (
    ChildProductFactory,
    ParentProductFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductPriceFactory,
    png,
    set_attribute,
    stock,
)

pytestmark = pytest.mark.django_db

ProductImage = get_model("catalogue", "ProductImage")


def page(client, product):
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def jsonld(html):
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts) == 1
    return json.loads(scripts[0])


def warehouse_text(html):
    """Each warehouse list of the page as one line: «Алматы — 3 шт., Астана — нет в наличии»."""
    lines = []
    for block in re.findall(r'<ul class="warehouse-list">(.*?)</ul>', html, re.S):
        rows = re.findall(
            r'class="warehouse-name">(.*?)</span>\s*<span class="warehouse-amount">(.*?)</span>', block, re.S
        )
        lines.append(", ".join(f"{name.strip()} — {amount.strip()}" for name, amount in rows))
    return lines


def test_product_page_shows_price_old_price_and_warehouses(client, settings, almaty, astana):
    old = PriceTypeFactory(name="Старая")
    settings.ONEC_OLD_PRICE_TYPE = "Старая"
    product = ProductFactory(title="Чайник")
    stock(product, {almaty: 3, astana: 0}, price="12990.00")
    ProductPriceFactory(product=product, price_type=old, price=Decimal("15990.00"))

    html = page(client, product)

    assert "Осталось всего 3 шт." in html
    assert re.search(r'<del class="old-price">\s*15\D?990', html)
    assert re.search(r'class="price">\s*12\D?990', html)
    assert warehouse_text(html) == ["Алматы — 3 шт., Астана — нет в наличии"]
    assert 'id="add_to_basket_form"' in html


def test_old_price_not_shown_when_not_higher(client, settings, almaty):
    old = PriceTypeFactory(name="Старая")
    settings.ONEC_OLD_PRICE_TYPE = old.code
    product = ProductFactory()
    stock(product, {almaty: 30}, price="1000.00")
    ProductPriceFactory(product=product, price_type=old, price=Decimal("1000.00"))

    html = page(client, product)

    assert "old-price" not in html
    assert "В наличии" in html


def test_selling_warehouses_setting_limits_what_is_shown(client, settings, almaty, astana):
    settings.ONEC_SELLING_WAREHOUSES = [almaty.code]  # by 1C Ид
    product = ProductFactory()
    stock(product, {almaty: 2, astana: 40})

    html = page(client, product)
    assert warehouse_text(html) == ["Алматы — 2 шт."]
    assert "Осталось всего 2 шт." in html  # the sales record sums the selling warehouses only

    settings.ONEC_SELLING_WAREHOUSES = ["Астана"]  # by name
    assert warehouse_text(page(client, product)) == ["Астана — 2 шт."]  # capped at what can be sold


def test_out_of_stock_product_is_visible_but_cannot_be_added(client, almaty, astana):
    product = ProductFactory()
    stock(product, {almaty: 0, astana: 0})

    html = page(client, product)

    assert "Нет в наличии" in html
    assert 'id="add_to_basket_form"' not in html
    assert 'id="add_to_basket_unavailable"' in html
    assert warehouse_text(html) == ["Алматы — нет в наличии, Астана — нет в наличии"]


def test_jsonld_of_a_standalone_product(client, almaty, astana):
    product = ProductFactory(title="Чайник <Bosch> & </script>", description="<p>Хороший &amp; быстрый</p>")
    set_attribute(product, "article", "TWK-8613")
    set_attribute(product, "barcode", "4006381333931")
    stock(product, {almaty: 3, astana: 0}, price="12990.00")
    ProductImage.objects.create(product=product, original=png("kettle.png"), display_order=0)

    html = page(client, product)
    data = jsonld(html)

    script = html.split('type="application/ld+json">')[1].split("</script>")[0]
    assert "<Bosch>" not in script and "&" not in script  # escaped for <script>; the JSON is intact
    assert data["@type"] == "Product"
    assert data["name"] == "Чайник <Bosch> & </script>"
    assert data["sku"] == "TWK-8613"
    assert data["gtin13"] == "4006381333931"
    assert data["description"] == "Хороший & быстрый"
    assert data["url"] == "http://testserver" + product.get_absolute_url()
    assert data["image"].startswith("http://testserver/media/") and data["image"].endswith(".png")
    main, *per_warehouse = data["offers"]
    assert main["price"] == "12990.00"
    assert main["priceCurrency"] == "KZT"
    assert main["availability"] == "https://schema.org/LimitedAvailability"
    assert main["inventoryLevel"]["value"] == 3
    assert "availableAtOrFrom" not in main
    assert [
        (o["availableAtOrFrom"]["name"], o["inventoryLevel"]["value"], o["availability"])
        for o in per_warehouse
    ] == [
        ("Алматы", 3, "https://schema.org/LimitedAvailability"),
        ("Астана", 0, "https://schema.org/OutOfStock"),
    ]
    assert all(o["availableAtOrFrom"]["@type"] == "Place" for o in per_warehouse)


@pytest.mark.parametrize(
    "barcode, gtin",
    [
        ("4006381333931", "4006381333931"),
        ("4006381333932", None),  # wrong check digit
        ("400638133393", None),  # 12 digits
        ("ABC6381333931", None),
        ("2000000000016, 4006381333931", "4006381333931"),  # 1C may list several
    ],
)
def test_gtin13_only_for_a_valid_ean13(client, almaty, barcode, gtin):
    product = ProductFactory()
    set_attribute(product, "barcode", barcode)
    stock(product, {almaty: 30})

    data = jsonld(page(client, product))

    assert data.get("gtin13") == gtin
    assert data["offers"][0]["availability"] == "https://schema.org/InStock"


def test_parent_page_offers_each_variant_with_its_price_and_stock(client, almaty, astana):
    parent = ParentProductFactory(title="Футболка")
    small = ChildProductFactory(parent=parent)
    set_attribute(small, "c_razmer", "S", name="Размер")
    set_attribute(small, "barcode", "4006381333931")
    stock(small, {almaty: 0, astana: 0}, price="4990.00")
    large = ChildProductFactory(parent=parent)
    set_attribute(large, "c_razmer", "L", name="Размер")
    stock(large, {almaty: 2, astana: 7}, price="5490.00")

    html = page(client, parent)

    # One size selector: S cannot be bought (disabled), L can and is chosen; the headline
    # price, availability and stock are those of the chosen variant.
    small_input = re.search(r'<input[^>]*name="axis_c_razmer"[^>]*value="S"[^>]*>', html).group(0)
    large_input = re.search(r'<input[^>]*name="axis_c_razmer"[^>]*value="L"[^>]*>', html).group(0)
    assert "disabled" in small_input
    assert "disabled" not in large_input and "checked" in large_input
    assert re.search(r'data-variant="price">\s*5\D?490', html)
    assert re.search(r'name="child_id" id="id_child_id" value="%d"' % large.pk, html)
    assert warehouse_text(html) == ["Алматы — 2 шт., Астана — 7 шт."]
    variants = json.loads(re.search(r'id="variant_data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert [(v["values"]["c_razmer"], [w["text"] for w in v["warehouses"]]) for v in variants["variants"]] == [
        ("S", ["нет в наличии", "нет в наличии"]),
        ("L", ["2 шт.", "7 шт."]),
    ]

    data = jsonld(html)
    variant_offers = [o for o in data["offers"] if "availableAtOrFrom" not in o]
    summary = [(o["name"], o["price"], o["availability"], o["inventoryLevel"]["value"]) for o in variant_offers]
    assert summary == [
        ("Размер: S", "4990.00", "https://schema.org/OutOfStock", 0),
        ("Размер: L", "5490.00", "https://schema.org/InStock", 9),
    ]
    assert variant_offers[0]["gtin13"] == "4006381333931"
    assert variant_offers[0]["url"].endswith(small.get_absolute_url())
    at_warehouses = [
        (o["name"], o["availableAtOrFrom"]["name"], o["inventoryLevel"]["value"])
        for o in data["offers"]
        if "availableAtOrFrom" in o
    ]
    assert at_warehouses == [
        ("Размер: S", "Алматы", 0),
        ("Размер: S", "Астана", 0),
        ("Размер: L", "Алматы", 2),
        ("Размер: L", "Астана", 7),
    ]


def test_out_of_stock_variant_cannot_be_added(client, almaty):
    parent = ParentProductFactory()
    sold_out = ChildProductFactory(parent=parent)
    stock(sold_out, {almaty: 0})

    response = client.post(
        reverse("basket:add", kwargs={"pk": parent.pk}), {"child_id": sold_out.pk, "quantity": 1}, follow=True
    )

    assert "нет в наличии" in response.content.decode()
    assert response.context["request"].basket.num_items == 0


def test_a_changed_stock_record_shows_on_the_next_request(client, almaty):
    product = ProductFactory()
    sales = stock(product, {almaty: 30}, price="1000.00")
    assert "В наличии" in page(client, product)

    stock(product, {almaty: 2}, price="1100.00")
    html = page(client, product)
    assert "Осталось всего 2 шт." in html
    assert re.search(r'class="price">\s*1\D?100', html)

    sales.refresh_from_db()
    sales.num_allocated = 2
    sales.save()
    html = page(client, product)
    assert "Нет в наличии" in html
    assert 'id="add_to_basket_form"' not in html


# -- pickup points ---------------------------------------------------------------------------


def pickup_text(html):
    """The pickup block as lines: «Алматы | ул. Абая, 10 | Часы работы: 10:00–20:00 — 3 шт.» and the courier's."""
    block = re.search(r'data-variant="pickup">(.*?class="warehouse-list courier-list">.*?</ul>)', html, re.S)
    assert block, "no pickup block"
    lines = []
    for item in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S):
        parts = [re.sub(r"\s+", " ", part).strip() for part in re.findall(r">([^<>]+)<", item)]
        parts = [part for part in parts if part]
        lines.append(" | ".join(parts[:-1]) + " — " + parts[-1])
    return lines


@pytest.fixture
def shop_point(almaty):
    almaty.is_pickup_point = True
    almaty.pickup_address = "ул. Абая, 10"
    almaty.pickup_hours = "10:00–20:00"
    almaty.pickup_map_url = "https://2gis.kz/almaty/geo/1"
    almaty.save()
    return almaty


def test_the_product_page_lists_pickup_points_with_address_hours_and_the_courier(client, shop_point, astana):
    product = ProductFactory(title="Чайник")
    stock(product, {shop_point: 3, astana: 20}, price="12990.00")

    html = page(client, product)

    assert pickup_text(html) == [
        "Алматы | ул. Абая, 10 | Часы работы: 10:00–20:00 | Показать на карте — 3 шт.",
        "Курьерская доставка — 20 шт.",
    ]
    assert 'href="https://2gis.kz/almaty/geo/1"' in html
    assert "Наличие на складах" not in html  # the internal warehouses are not listed


def test_a_point_without_the_product_and_a_courier_without_stock(client, shop_point, astana):
    product = ProductFactory(title="Чайник")
    stock(product, {shop_point: 2}, price="12990.00")
    assert pickup_text(page(client, product)) == [
        "Алматы | ул. Абая, 10 | Часы работы: 10:00–20:00 | Показать на карте — 2 шт.",
        "Курьерская доставка — нет в наличии",
    ]
    other = ProductFactory(title="Утюг")
    stock(other, {astana: 4}, price="9990.00")
    assert pickup_text(page(client, other))[0].endswith("— нет в наличии")


def test_variants_carry_their_pickup_and_courier_stock(client, shop_point, astana):
    parent = ParentProductFactory(title="Футболка")
    for size, at_point, elsewhere in (("S", 0, 5), ("L", 2, 0)):
        child = ChildProductFactory(parent=parent)
        set_attribute(child, "c_razmer", size, name="Размер")
        stock(child, {shop_point: at_point, astana: elsewhere}, price="4990.00")

    html = page(client, parent)

    variants = json.loads(re.search(r'id="variant_data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert [
        (v["values"]["c_razmer"], [(p["point"], p["text"]) for p in v["pickup"]], v["courier"]["text"])
        for v in variants["variants"]
    ] == [("S", [(shop_point.pk, "нет в наличии")], "5 шт."), ("L", [(shop_point.pk, "2 шт.")], "нет в наличии")]
    assert f'data-point="{shop_point.pk}"' in html and "data-courier" in html


def test_without_pickup_points_the_page_lists_the_warehouses(client, almaty, astana):
    product = ProductFactory(title="Чайник")
    stock(product, {almaty: 3, astana: 0}, price="12990.00")
    html = page(client, product)
    assert 'data-variant="pickup"' not in html
    assert warehouse_text(html) == ["Алматы — 3 шт., Астана — нет в наличии"]
