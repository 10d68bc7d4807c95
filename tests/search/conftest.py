"""A small 1C-shaped catalogue for the search and filter tests (any database)."""

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from shop.apps.search import indexing

from tests.storefront.factories import (
    CategoryFactory,
    ChildProductFactory,
    ParentProductFactory,
    PartnerFactory,
    ProductFactory,
    set_stock,
    set_text_attribute,
)

ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
AttributeOptionGroup = get_model("catalogue", "AttributeOptionGroup")
AttributeOption = get_model("catalogue", "AttributeOption")


def option_attribute(product_class, code, name, values):
    """A 1C reference property (Справочник): an option attribute with its option group."""
    group = AttributeOptionGroup.objects.create(name=name, code=code)
    for value in values:
        AttributeOption.objects.create(group=group, option=value, code=f"{code}-{value}")
    attribute = ProductAttribute.objects.create(
        product_class=product_class, code=code, name=name, type=ProductAttribute.OPTION, option_group=group
    )
    return attribute


def set_option(product, attribute, value):
    ProductAttributeValue.objects.update_or_create(
        product=product,
        attribute=attribute,
        defaults={"value_option": attribute.option_group.options.get(option=value)},
    )


def listing_rows():
    """Every listing row, search document and number facet, comparable across refreshes."""
    from shop.apps.search.models import ProductDocument, ProductFacet, ProductListing

    return (
        sorted(ProductDocument.objects.values_list("product_id", "title", "text")),
        sorted(
            ProductListing.objects.values_list(
                "product_id", "title", "price", "in_stock", "date_created", "popularity", "categories", "facets",
                "identifiers",
            )
        ),
        sorted(ProductFacet.objects.values_list("product_id", "kind", "key", "value", "number")),
    )


def set_number(product, attribute, number):
    ProductAttributeValue.objects.update_or_create(
        product=product, attribute=attribute, defaults={"value_float": number}
    )


@pytest.fixture
def catalogue(db):
    return build_catalogue()


def build_catalogue():
    """
    Инструменты > Дрели (3 drills: Bosch, Bosch, Makita; 2 in stock), Освещение (lamps),
    Одежда (a jacket with sizes and colours as variants), one warehouse each for Almaty
    and Astana.
    """
    tools = CategoryFactory(name="Инструменты")
    drills = CategoryFactory(name="Дрели", parent=tools)
    light = CategoryFactory(name="Освещение")
    clothes = CategoryFactory(name="Одежда")
    almaty = PartnerFactory(code="wh-almaty", name="Склад Алматы")
    astana = PartnerFactory(code="wh-astana", name="Склад Астана")

    bosch = ProductFactory(
        title="Дрель ударная Bosch", categories=[drills], article="GSB-13RE", stock=(Decimal("32990"), 4)
    )
    product_class = bosch.get_product_class()
    brand = option_attribute(product_class, "p_brand", "Производитель", ["Bosch", "Makita"])
    power = ProductAttribute.objects.create(
        product_class=product_class, code="p_power", name="Мощность, Вт", type=ProductAttribute.FLOAT
    )
    set_option(bosch, brand, "Bosch")
    set_number(bosch, power, 600)
    set_stock(bosch, Decimal("32990"), 4, warehouse=almaty)

    bosch_pro = ProductFactory(title="Дрель Bosch Professional", categories=[drills], stock=(Decimal("54990"), 0))
    set_option(bosch_pro, brand, "Bosch")
    set_number(bosch_pro, power, 850)

    makita = ProductFactory(
        title="Дрель безударная Makita", categories=[drills], stock=(Decimal("71500"), 2),
        description="Лёгкая, для дерева и металла",
    )
    set_option(makita, brand, "Makita")
    set_number(makita, power, 510)
    set_stock(makita, Decimal("71500"), 2, warehouse=astana)

    ProductFactory(
        title="Набор бит для шуруповёрта", categories=[tools], stock=(Decimal("2990"), 10),
        description="Подходит к любой дрели и шуруповёрту",
    )
    lamp = ProductFactory(title="Лампа светодиодная E27", categories=[light], stock=(Decimal("990"), 100))
    set_text_attribute(lamp, "barcode", "Штрихкод", "4601234567890")
    ProductFactory(title="Лампа настольная", categories=[light], stock=(Decimal("8990"), 3))

    jacket = ParentProductFactory(title="Куртка зимняя", categories=[clothes])
    variants = {}
    for size, colour, price, quantity in [
        ("M", "Чёрный", "25990", 3),
        ("XL", "Чёрный", "25990", 0),
        ("S", "Синий", "23990", 5),
        ("L", "Синий", "23990", 1),
    ]:
        child = ChildProductFactory(parent=jacket, title=f"Куртка зимняя, {size}, {colour}", stock=False)
        set_text_attribute(child, "c_razmer", "Размер", size)
        set_text_attribute(child, "c_tsvet", "Цвет", colour)
        set_stock(child, Decimal(price), quantity)
        variants[(size, colour)] = child
    ProductFactory(title="Секатор снятый", categories=[tools], is_public=False)
    indexing.flush_pending()  # what a commit does: the listing rows (and filter settings) are written
    return {
        "tools": tools,
        "drills": drills,
        "light": light,
        "clothes": clothes,
        "almaty": almaty,
        "astana": astana,
        "bosch": bosch,
        "bosch_pro": bosch_pro,
        "makita": makita,
        "lamp": lamp,
        "jacket": jacket,
        "variants": variants,
        "brand": brand,
        "power": power,
    }
