"""
A small catalogue shaped as the 1C import writes it, for the storefront's look: a parent
with two characteristics (Размер × Цвет) whose variants differ in price, old price and
stock per warehouse, and standalone products with numeric 1C properties.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from oscar.core.loading import get_model

from tests.stock.factories import (
    ChildProductFactory,
    ParentProductFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductPriceFactory,
    WarehouseFactory,
    set_attribute,
    stock,
)
from tests.storefront.factories import CategoryFactory

ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")

OLD_PRICE_TYPE = "Старая цена"

#: (size, colour): (price, old price or None, {warehouse: quantity})
TSHIRT_VARIANTS = {
    ("XL", "Белый"): ("5990.00", None, {"Алматы": 0, "Астана": 0}),
    ("S", "Белый"): ("4990.00", "5990.00", {"Алматы": 3, "Астана": 0}),
    ("L", "Чёрный"): ("5590.00", None, {"Алматы": 7, "Астана": 0}),
    ("M", "Белый"): ("5290.00", None, {"Алматы": 0, "Астана": 2}),
    ("S", "Чёрный"): ("4990.00", None, {"Алматы": 0, "Астана": 0}),
    ("M", "Чёрный"): ("5490.00", "6990.00", {"Алматы": 1, "Астана": 4}),
    ("L", "Белый"): ("5590.00", None, {"Алматы": 0, "Астана": 0}),
    ("XL", "Чёрный"): ("5990.00", None, {"Алматы": 0, "Астана": 0}),
}


@dataclass
class Catalogue:
    clothes: object
    tshirts: object
    tools: object
    tshirt: object
    drill: object
    hammer: object
    variants: dict = field(default_factory=dict)


def number_attribute(product, code, name, value):
    """A 1C Число property (stored as a float attribute, as the import does)."""
    attribute, _ = ProductAttribute.objects.get_or_create(
        product_class=product.get_product_class(), code=code, defaults={"name": name, "type": ProductAttribute.FLOAT}
    )
    ProductAttributeValue.objects.update_or_create(product=product, attribute=attribute, defaults={"value_float": value})


def build_catalogue(settings):
    """The catalogue; the old-price type is chosen through the settings (ONEC_OLD_PRICE_TYPE)."""
    settings.ONEC_OLD_PRICE_TYPE = OLD_PRICE_TYPE
    settings.ONEC_SELLING_WAREHOUSES = []
    WarehouseFactory(name="Алматы")
    WarehouseFactory(name="Астана")
    old_price_type = PriceTypeFactory(name=OLD_PRICE_TYPE)

    clothes = CategoryFactory(name="Одежда")
    tshirts = CategoryFactory(name="Футболки", parent=clothes)
    tools = CategoryFactory(name="Инструменты")

    tshirt = ParentProductFactory(title="Футболка Steppe хлопок", description="<p>Плотный хлопок.</p>")
    tshirt.categories.add(tshirts)
    variants = {}
    for (size, colour), (price, old_price, warehouses) in TSHIRT_VARIANTS.items():
        child = ChildProductFactory(parent=tshirt)
        set_attribute(child, "c_razmer", size, name="Размер")
        set_attribute(child, "c_tsvet", colour, name="Цвет")
        stock(child, warehouses, price=price)
        if old_price:
            ProductPriceFactory(product=child, price_type=old_price_type, price=Decimal(old_price))
        variants[(size, colour)] = child

    drill = ProductFactory(title="Дрель Bosch GSB 13 RE", description="<p>Ударная дрель.</p>")
    drill.categories.add(tools)
    set_attribute(drill, "article", "ИН-1000", name="Артикул")
    number_attribute(drill, "p_warranty", "Гарантия, мес", 24.0)
    number_attribute(drill, "p_weight", "Вес, кг", 1.8)
    stock(drill, {"Алматы": 12, "Астана": 3}, price="32990.00")
    ProductPriceFactory(product=drill, price_type=old_price_type, price=Decimal("39590.00"))

    hammer = ProductFactory(title="Молоток слесарный Зубр 500 г")
    hammer.categories.add(tools)
    number_attribute(hammer, "p_warranty", "Гарантия, мес", 0.0)
    stock(hammer, {"Алматы": 0, "Астана": 0}, price="3490.00")

    return Catalogue(
        clothes=clothes, tshirts=tshirts, tools=tools, tshirt=tshirt, drill=drill, hammer=hammer, variants=variants
    )
