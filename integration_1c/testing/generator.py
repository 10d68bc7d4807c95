"""
Synthetic 1C exchange packages, written the way 1C:Enterprise writes them.

The shop is tested and benchmarked on packages that look like real 1C output: a UTF-8
byte order mark (or windows-1251 when asked), tab-indented CommerceML in the right
namespace, GUID ids, ``Код="796 "`` units, valid EAN-13 barcodes, Russian names, nested
groups, Справочник properties, several price types and warehouses, variants whose offers
are *not* contiguous in the file, deleted products, and pictures under ``import_files/``.

Two layouts, as 1C sends them:

* schema 2.08 — ``import.xml`` (Классификатор + Каталог) and ``offers.xml``
  (ПакетПредложений with ТипыЦен, Склады, prices and ``<Склад ИдСклада КоличествоНаСкладе/>``);
* schema 3.1 — ``import.xml`` (Классификатор + Каталог, ``ПометкаУдаления``, ``НомерВерсии``),
  ``offers.xml`` (names and characteristics only), ``prices.xml`` (Цены) and ``rests.xml``
  (``<Остатки>``), the split of the 1C 3.1 exchange.

Nothing is held in memory per product: a catalogue is a *model* that can re-create any
product from ``(seed, index)``, and files are written incrementally with
``lxml.etree.xmlfile``, so 100,000 products cost the same memory as 100. The model is
also what :meth:`GeneratedExchange.expected` reads to tell a test what the shop should
end up with. No database is touched here.
"""

from __future__ import annotations

import base64
import codecs
import math
import random
import struct
import uuid
import zlib
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from lxml import etree

NS_2 = "urn:1C.ru:commerceml_2"
NS_3 = "urn:1C.ru:commerceml_3"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMAS = ("2.08", "3.1")
ENCODINGS = ("utf-8", "windows-1251")
DEFAULT_PRICE_TYPES = ("Розничная", "Оптовая", "Старая цена")

# Every id is a uuid5 in this namespace, so the same seed always gives the same ids.
_ID_NAMESPACE = uuid.UUID("7f0d3c52-6a43-4d2e-9a53-1c0e8d5b2a10")

_CENT = Decimal("0.01")
_ONE = Decimal(1)


def make_id(seed, *parts):
    """A deterministic GUID for one object of a generated catalogue."""
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(str(p) for p in (seed, *parts))))


def ean13(number):
    """A valid EAN-13 for a 12-digit ``number`` (the check digit is computed)."""
    digits = f"{number % 10**12:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def version_number(seed, *parts):
    """A 1C-looking ``НомерВерсии`` (base64 of 8 bytes), deterministic."""
    raw = uuid.uuid5(_ID_NAMESPACE, "/".join(str(p) for p in ("version", seed, *parts))).bytes[:8]
    return base64.b64encode(raw).decode("ascii")


def png_bytes(width, height, rgb, *, accent=None, comment=""):
    """
    A valid PNG: rows of a vertical gradient of ``rgb``, with a centred square of
    ``accent`` when given. ``comment`` goes into a tEXt chunk, which makes the bytes (and
    so the sha1 the shop keys images by) unique per picture.
    """

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = []
    lo, hi = width // 3, width - width // 3
    for y in range(height):
        shade = 1.0 - 0.35 * y / max(height - 1, 1)
        colour = bytes(max(0, min(255, int(c * shade + 40 * (1 - shade)))) for c in rgb)
        if accent and height // 3 <= y < height - height // 3:
            row = colour * lo + bytes(accent) * (hi - lo) + colour * (width - hi)
        else:
            row = colour * width
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    if comment:
        out += chunk(b"tEXt", b"Comment\x00" + comment.encode("ascii", "replace"))
    return out + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------------------
# The catalogue model: what a generated 1C base holds.
# --------------------------------------------------------------------------------------


@dataclass
class GroupSpec:
    """Группа, with its children (nested to any depth)."""

    id: str
    name: str
    parent_id: str | None = None
    children: list[GroupSpec] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class PropertySpec:
    """Свойство. ``value_type`` is 1C's word: Строка, Число or Справочник."""

    id: str
    name: str
    value_type: str
    options: list[tuple[str, str]] = field(default_factory=list)

    def option_id(self, value):
        for option_id, option_value in self.options:
            if option_value == value:
                return option_id
        raise KeyError(value)


@dataclass
class PriceTypeSpec:
    """ТипЦены. ``factor`` turns the retail price into this type's price."""

    id: str
    name: str
    currency: str
    factor: Decimal
    #: Only some offers carry this type (e.g. "Старая цена" only where discounted).
    optional: bool = False


@dataclass
class WarehouseSpec:
    """Склад."""

    id: str
    name: str


@dataclass
class OfferSpec:
    """Предложение: a standalone product's offer, or one variant ``product#characteristic``."""

    id: str
    product_id: str
    name: str
    article: str
    characteristic_id: str | None = None
    characteristics: list[tuple[str, str]] = field(default_factory=list)
    #: Price type Ид -> price. Types an offer does not carry are absent.
    prices: dict[str, Decimal] = field(default_factory=dict)
    #: (warehouse Ид, quantity), one per warehouse.
    stocks: list[tuple[str, int]] = field(default_factory=list)
    version: str = ""

    @property
    def quantity(self):
        return sum(qty for _, qty in self.stocks)


@dataclass
class ProductSpec:
    """Товар, with the offers 1C sends for it (none when it is deleted)."""

    id: str
    index: int
    name: str
    article: str
    barcode: str
    group_ids: list[str]
    description: str
    kind: str
    full_name: str
    properties: list[tuple[str, str]]
    images: list[str]
    deleted: bool
    offers: list[OfferSpec]
    version: str = ""
    tax_rate: str = "12"

    @property
    def has_variants(self):
        return any(offer.characteristic_id for offer in self.offers)


class CatalogueModel:
    """
    Everything a generated 1C base holds. Subclasses fill the classifier in ``__init__``
    and re-create products on demand in :meth:`iter_products`, always identically.
    """

    schema_name = "Каталог товаров"
    owner_name = "ТОО «Торговый дом»"

    def __init__(self, *, seed, price_types, warehouses, currency):
        self.seed = seed
        self.currency = currency
        self.catalogue_id = make_id(seed, "catalogue")
        self.owner_id = make_id(seed, "owner")
        self.groups: list[GroupSpec] = []
        self.properties: list[PropertySpec] = []
        self.price_types = [
            PriceTypeSpec(
                id=make_id(seed, "price-type", name),
                name=name,
                currency=currency,
                factor=_PRICE_FACTORS.get(name, Decimal(1) - Decimal("0.05") * index),
                optional=name == "Старая цена",
            )
            for index, name in enumerate(price_types)
        ]
        self.warehouses = [
            WarehouseSpec(id=make_id(seed, "warehouse", index), name=_warehouse_name(index))
            for index in range(warehouses)
        ]

    def iter_products(self):
        raise NotImplementedError

    def all_groups(self):
        for group in self.groups:
            yield from group.walk()

    def image_png(self, path):
        """The picture for ``path`` (the same bytes every time)."""
        rng = random.Random(f"{self.seed}/image/{path}")
        rgb = (rng.randrange(60, 230), rng.randrange(60, 230), rng.randrange(60, 230))
        return png_bytes(8, 8, rgb, comment=path)

    # Helpers used by subclasses -------------------------------------------------------

    def _prices(self, rng, retail, discounted):
        prices = {}
        for price_type in self.price_types:
            if price_type.optional and not discounted:
                continue
            value = retail * price_type.factor
            if price_type.factor > 1:
                # An old (crossed-out) price is a round shop price too: 39 590.
                value = Decimal(math.ceil(value / 100) * 100 - 10)
            # Retail and old prices are whole tenge; others keep the cents.
            quantum = _ONE if price_type.factor >= 1 else _CENT
            prices[price_type.id] = value.quantize(quantum, rounding=ROUND_HALF_UP)
        return prices

    def _stocks(self, rng, *, out_of_stock=False, low=False):
        stocks = []
        for warehouse in self.warehouses:
            if out_of_stock or rng.random() < 0.2:
                qty = 0
            elif low:
                qty = rng.randint(0, 2)
            else:
                qty = rng.randint(1, 60)
            stocks.append((warehouse.id, qty))
        if low and not out_of_stock and not any(q for _, q in stocks):
            stocks[0] = (stocks[0][0], 1)
        return stocks

    def _reference_property(self, key, name, values):
        prop = PropertySpec(
            id=make_id(self.seed, "property", key),
            name=name,
            value_type="Справочник",
            options=[(make_id(self.seed, "property", key, value), value) for value in values],
        )
        self.properties.append(prop)
        return prop

    def _plain_property(self, key, name, value_type):
        prop = PropertySpec(id=make_id(self.seed, "property", key), name=name, value_type=value_type)
        self.properties.append(prop)
        return prop

    def _group_tree(self, tree, parent=None, path=()):
        """``tree``: [(name, subtree), …]; returns GroupSpecs and collects leaves."""
        groups = []
        for name, subtree in tree:
            key = (*path, name)
            group = GroupSpec(
                id=make_id(self.seed, "group", *key), name=name, parent_id=parent.id if parent else None
            )
            group.children = self._group_tree(subtree, group, key)
            groups.append(group)
        return groups

    def _image_paths(self, product_id, count):
        hex_id = product_id.replace("-", "")
        return [
            f"import_files/{hex_id[:2]}/{hex_id}_{make_id(self.seed, 'image', product_id, n).replace('-', '')}.png"
            for n in range(count)
        ]


_PRICE_FACTORS = {
    "Розничная": Decimal(1),
    "Оптовая": Decimal("0.85"),
    "Старая цена": Decimal("1.2"),
    "Закупочная": Decimal("0.6"),
}

_WAREHOUSE_NAMES = (
    "Основной склад",
    "Склад Алматы",
    "Склад Астана",
    "Склад Шымкент",
    "Магазин на Абая",
    "Склад Караганда",
)


def _warehouse_name(index):
    return _WAREHOUSE_NAMES[index] if index < len(_WAREHOUSE_NAMES) else f"Склад № {index + 1}"


def _shop_price(value):
    """Round to a shop price ending in …90 (32 990), never below 90."""
    return Decimal(max(int(value / 10) * 10 - 10, 90)) if value % 100 != 90 else Decimal(value).quantize(_ONE)


def _format_number(value):
    """1C writes numeric property values with a decimal comma (``1,4``)."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


# --------------------------------------------------------------------------------------
# A large synthetic catalogue.
# --------------------------------------------------------------------------------------

# Top area -> (article prefix, brands, variant axes, price range, [(middle group, [(leaf, nouns)])])
# fmt: off
_SYNTHETIC_TREE = [
    (
        "Инструменты",
        "TL",
        ["Bosch", "Makita", "DeWALT", "Интерскол", "Зубр", "Metabo"],
        "power",
        (4_000, 120_000),
        [
            ("Электроинструмент", [
                ("Дрели", ["Дрель ударная", "Дрель безударная", "Дрель-миксер"]),
                ("Шуруповёрты", ["Шуруповёрт аккумуляторный", "Гайковёрт ударный"]),
                ("Шлифмашины", ["Шлифмашина угловая", "Шлифмашина эксцентриковая"]),
            ]),
            ("Ручной инструмент", [
                ("Молотки", ["Молоток слесарный", "Молоток-гвоздодёр", "Киянка резиновая"]),
                ("Отвёртки", ["Набор отвёрток", "Отвёртка диэлектрическая"]),
                ("Ключи", ["Набор ключей комбинированных", "Ключ разводной"]),
            ]),
            ("Измерительный инструмент", [
                ("Рулетки", ["Рулетка измерительная"]),
                ("Уровни", ["Уровень строительный", "Лазерный нивелир"]),
                ("Дальномеры", ["Дальномер лазерный"]),
            ]),
        ],
    ),
    (
        "Одежда",
        "CL",
        ["Nord Line", "Urban Step", "Сибирь", "Basic Wear", "Steppe"],
        "apparel",
        (2_500, 45_000),
        [
            ("Мужская одежда", [
                ("Футболки", ["Футболка хлопковая", "Футболка поло"]),
                ("Толстовки", ["Толстовка с капюшоном", "Свитшот"]),
                ("Куртки", ["Куртка демисезонная", "Пуховик"]),
            ]),
            ("Женская одежда", [
                ("Платья", ["Платье трикотажное", "Платье летнее"]),
                ("Блузки", ["Блузка шифоновая", "Рубашка оверсайз"]),
                ("Юбки", ["Юбка плиссе", "Юбка джинсовая"]),
            ]),
            ("Детская одежда", [
                ("Комбинезоны", ["Комбинезон зимний"]),
                ("Пижамы", ["Пижама детская"]),
                ("Шапки", ["Шапка вязаная"]),
            ]),
        ],
    ),
    (
        "Электроника",
        "EL",
        ["Samsung", "Xiaomi", "Apple", "Huawei", "Lenovo", "JBL"],
        "colour",
        (8_000, 900_000),
        [
            ("Смартфоны и гаджеты", [
                ("Смартфоны", ["Смартфон"]),
                ("Наушники", ["Наушники беспроводные", "Наушники накладные"]),
                ("Умные часы", ["Смарт-часы", "Фитнес-браслет"]),
            ]),
            ("Компьютеры", [
                ("Ноутбуки", ["Ноутбук"]),
                ("Мониторы", ["Монитор"]),
                ("Клавиатуры", ["Клавиатура механическая", "Клавиатура беспроводная"]),
            ]),
            ("Аудиотехника", [
                ("Колонки", ["Колонка портативная"]),
                ("Саундбары", ["Саундбар"]),
                ("Микрофоны", ["Микрофон USB"]),
            ]),
        ],
    ),
    (
        "Дом и сад",
        "HM",
        ["Tefal", "Redmond", "Fiskars", "Гардена", "Home Line"],
        "colour",
        (1_500, 150_000),
        [
            ("Кухня", [
                ("Посуда", ["Сковорода антипригарная", "Кастрюля", "Набор посуды"]),
                ("Чайники", ["Чайник электрический"]),
                ("Ножи", ["Нож поварской", "Набор ножей"]),
            ]),
            ("Текстиль", [
                ("Постельное бельё", ["Комплект постельного белья"]),
                ("Полотенца", ["Полотенце махровое"]),
                ("Пледы", ["Плед флисовый"]),
            ]),
            ("Сад", [
                ("Садовый инвентарь", ["Лопата штыковая", "Грабли веерные", "Секатор"]),
                ("Полив", ["Шланг поливочный", "Распылитель"]),
                ("Мебель для сада", ["Кресло садовое", "Стол складной"]),
            ]),
        ],
    ),
    (
        "Спорт и отдых",
        "SP",
        ["Nordway", "Demix", "Torneo", "Outventure", "Larsen"],
        "apparel",
        (1_000, 250_000),
        [
            ("Туризм", [
                ("Палатки", ["Палатка туристическая"]),
                ("Рюкзаки", ["Рюкзак походный", "Рюкзак городской"]),
                ("Спальники", ["Спальный мешок"]),
            ]),
            ("Фитнес", [
                ("Гантели", ["Гантель разборная", "Гантель неопреновая"]),
                ("Коврики", ["Коврик для йоги"]),
                ("Скакалки", ["Скакалка скоростная"]),
            ]),
            ("Велоспорт", [
                ("Велосипеды", ["Велосипед горный", "Велосипед городской"]),
                ("Шлемы", ["Шлем велосипедный"]),
                ("Велоаксессуары", ["Велозамок", "Фонарь велосипедный"]),
            ]),
        ],
    ),
    (
        "Автотовары",
        "AU",
        ["Bosch", "Castrol", "Michelin", "Airline", "Autoprofi"],
        "volume",
        (800, 120_000),
        [
            ("Масла и жидкости", [
                ("Моторные масла", ["Масло моторное 5W-30", "Масло моторное 10W-40"]),
                ("Омыватели", ["Жидкость стеклоомывающая"]),
                ("Антифризы", ["Антифриз G12"]),
            ]),
            ("Аксессуары", [
                ("Коврики", ["Коврики в салон"]),
                ("Органайзеры", ["Органайзер в багажник"]),
                ("Держатели", ["Держатель для телефона"]),
            ]),
            ("Инструмент для авто", [
                ("Компрессоры", ["Компрессор автомобильный"]),
                ("Домкраты", ["Домкрат гидравлический"]),
                ("Пуско-зарядные", ["Пуско-зарядное устройство"]),
            ]),
        ],
    ),
]
# fmt: on

# fmt: off
_VARIANT_AXES = {
    "apparel": [("Размер", ["XS", "S", "M", "L", "XL", "XXL"]), ("Цвет", ["Чёрный", "Белый", "Серый", "Синий", "Бежевый"])],
    "colour": [("Цвет", ["Чёрный", "Белый", "Серебристый", "Синий", "Красный", "Зелёный"])],
    "power": [("Комплектация", ["Без АКБ", "1 АКБ", "2 АКБ", "В кейсе", "С набором бит"])],
    "volume": [("Объём", ["0,5 л", "1 л", "4 л", "5 л", "20 л"])],
}
# fmt: on
_COUNTRIES = ["Россия", "Казахстан", "Китай", "Германия", "Турция", "Вьетнам", "Италия"]
_MATERIALS = ["Сталь", "Пластик", "Хлопок", "Полиэстер", "Алюминий", "Дерево", "Стекло"]
_MODEL_LETTERS = "ABCDEGHKMNPRSTVX"
_ADJECTIVES = ["надёжный", "практичный", "лёгкий", "прочный", "удобный", "современный"]


class SyntheticCatalogue(CatalogueModel):
    """``products`` generated products over a 3-level group tree, ``variant_share`` with variants."""

    schema_name = "Основной каталог товаров"

    def __init__(
        self,
        *,
        products,
        seed=1,
        variant_share=0.25,
        variants=(2, 4),
        deleted_share=0.02,
        images=True,
        warehouses=3,
        price_types=DEFAULT_PRICE_TYPES,
        currency="KZT",
    ):
        super().__init__(seed=seed, price_types=price_types, warehouses=warehouses, currency=currency)
        self.products = products
        self.variant_share = variant_share
        self.variants = variants
        self.deleted_share = deleted_share
        self.images = images
        tree = [
            (area, [(middle, [(leaf, []) for leaf, _ in leaves]) for middle, leaves in middles])
            for area, _, _, _, _, middles in _SYNTHETIC_TREE
        ]
        self.groups = self._group_tree(tree)
        # Leaves in a flat list: (group id, area entry, nouns).
        self.leaves = []
        for top, area in zip(self.groups, _SYNTHETIC_TREE):
            for middle, (_, leaves) in zip(top.children, area[5]):
                for leaf, (_, nouns) in zip(middle.children, leaves):
                    self.leaves.append((leaf.id, area, nouns, leaf.name))
        all_brands = sorted({brand for area in _SYNTHETIC_TREE for brand in area[2]})
        self.brand = self._reference_property("brand", "Производитель", all_brands)
        self.country = self._reference_property("country", "Страна производства", _COUNTRIES)
        self.weight = self._plain_property("weight", "Вес, кг", "Число")
        self.warranty = self._plain_property("warranty", "Гарантия, мес", "Число")
        self.material = self._plain_property("material", "Материал", "Строка")

    def iter_products(self):
        for index in range(self.products):
            yield self.product(index)

    def product(self, index):
        """Product number ``index``, the same every time for this seed."""
        seed = self.seed
        rng = random.Random(f"{seed}/product/{index}")
        product_id = make_id(seed, "product", index)
        group_id, area, nouns, leaf_name = self.leaves[rng.randrange(len(self.leaves))]
        area_name, prefix, brands, axes_key, (low, high), _ = area
        brand = rng.choice(brands)
        model = f"{rng.choice(_MODEL_LETTERS)}{rng.choice(_MODEL_LETTERS)}-{rng.randint(100, 9999)}"
        name = f"{rng.choice(nouns)} {brand} {model}"
        article = f"{prefix}-{index + 1:06d}"
        deleted = rng.random() < self.deleted_share
        with_variants = not deleted and rng.random() < self.variant_share
        # Shop prices end in …90: 32 990, 4 490.
        retail = Decimal(max(int(rng.uniform(low, high) / 100) * 100 - 10, 90))
        discounted = rng.random() < 0.3
        weight = Decimal(rng.randint(5, 25_000)) / 1000
        properties = [
            (self.brand.id, self.brand.option_id(brand)),
            (self.country.id, self.country.options[rng.randrange(len(self.country.options))][0]),
            (self.weight.id, _format_number(weight)),
            (self.warranty.id, str(rng.choice([0, 6, 12, 24, 36]))),
            (self.material.id, rng.choice(_MATERIALS)),
        ]
        image_count = 0
        if self.images and not deleted:
            image_count = 1 if rng.random() < 0.8 else 2
        description = (
            f"{name} — {rng.choice(_ADJECTIVES)} товар из раздела «{leaf_name}» ({area_name.lower()}). "
            f"Производитель {brand}, гарантия продавца. Артикул {article}."
        )
        offers = []
        version = version_number(seed, "product", index)
        if not deleted:
            if with_variants:
                offers = self._variant_offers(
                    rng, product_id, name, article, axes_key, retail, discounted, version
                )
            else:
                offers = [
                    OfferSpec(
                        id=product_id,
                        product_id=product_id,
                        name=name,
                        article=article,
                        prices=self._prices(rng, retail, discounted),
                        stocks=self._stocks(rng),
                        version=version,
                    )
                ]
        return ProductSpec(
            id=product_id,
            index=index,
            name=name,
            article=article,
            barcode=ean13(460_000_000_000 + (seed % 1000) * 100_000_000 + index),
            group_ids=[group_id],
            description=description,
            kind=leaf_name,
            full_name=f"{name}, арт. {article}",
            properties=properties,
            images=self._image_paths(product_id, image_count),
            deleted=deleted,
            offers=offers,
            version=version,
        )

    def _variant_offers(self, rng, product_id, name, article, axes_key, retail, discounted, version):
        axes = _VARIANT_AXES[axes_key]
        combos = [()]
        for _, values in axes:
            combos = [(*combo, value) for combo in combos for value in values]
        count = min(rng.randint(*self.variants), len(combos))
        chosen = sorted(rng.sample(range(len(combos)), count))
        offers = []
        for position in chosen:
            values = combos[position]
            characteristic_id = make_id(self.seed, "characteristic", product_id, *values)
            # Bigger sizes / fuller kits cost a little more.
            variant_retail = _shop_price(retail * (1 + Decimal(position % 4) / 20))
            offers.append(
                OfferSpec(
                    id=f"{product_id}#{characteristic_id}",
                    product_id=product_id,
                    characteristic_id=characteristic_id,
                    name=f"{name} ({', '.join(values)})",
                    article=article,
                    characteristics=[(axis, value) for (axis, _), value in zip(axes, values)],
                    prices=self._prices(rng, variant_retail, discounted),
                    stocks=self._stocks(rng),
                    version=version,
                )
            )
        return offers


# --------------------------------------------------------------------------------------
# The demo shop: ~60 readable products.
# --------------------------------------------------------------------------------------

# fmt: off
_DEMO_TREE = [
    ("Инструменты", [
        ("Электроинструмент", [("Дрели", []), ("Шуруповёрты", []), ("Болгарки", [])]),
        ("Ручной инструмент", [("Молотки", []), ("Наборы инструментов", [])]),
    ]),
    ("Одежда", [
        ("Мужская одежда", [("Футболки", []), ("Толстовки", [])]),
        ("Женская одежда", [("Платья", []), ("Футболки", [])]),
    ]),
    ("Обувь", [
        ("Спортивная обувь", [("Кроссовки", [])]),
    ]),
    ("Электроника", [
        ("Смартфоны и гаджеты", [("Смартфоны", []), ("Наушники", []), ("Умные часы", [])]),
        ("Компьютеры", [("Ноутбуки", []), ("Мониторы", [])]),
    ]),
    ("Дом и сад", [
        ("Кухня", [("Посуда", []), ("Чайники", [])]),
        ("Сад", [("Садовый инвентарь", [])]),
    ]),
    ("Спорт и отдых", [
        ("Туризм", [("Палатки", []), ("Рюкзаки", [])]),
        ("Фитнес", [("Коврики для йоги", []), ("Гантели", [])]),
    ]),
]
# fmt: on

# fmt: off
_DEMO_COLOURS = {
    "Инструменты": ((0, 105, 180), (250, 200, 40)),
    "Одежда": ((200, 70, 90), (245, 235, 225)),
    "Обувь": ((60, 60, 70), (230, 90, 40)),
    "Электроника": ((40, 40, 45), (80, 170, 250)),
    "Дом и сад": ((70, 150, 80), (240, 240, 230)),
    "Спорт и отдых": ((240, 130, 30), (40, 60, 120)),
}
# fmt: on

# (group path, name, brand, retail KZT, variants, material, description)
# fmt: off
_DEMO_PRODUCTS = [
    (("Инструменты", "Электроинструмент", "Дрели"), "Дрель ударная Bosch EasyImpact 600", "Bosch", 32_990, None,
     "Металл", "Компактная ударная дрель мощностью 600 Вт для сверления бетона, кирпича и дерева."),
    (("Инструменты", "Электроинструмент", "Дрели"), "Дрель безударная Makita DP4011", "Makita", 71_500, None,
     "Металл", "Двухскоростная дрель с металлическим редуктором для работы со сверлами большого диаметра."),
    (("Инструменты", "Электроинструмент", "Дрели"), "Дрель-миксер Интерскол ДУ-16/1000ЭР", "Интерскол", 27_400, None,
     "Металл", "Для перемешивания строительных смесей и сверления; 1000 Вт, плавная регулировка оборотов."),
    (("Инструменты", "Электроинструмент", "Шуруповёрты"), "Шуруповёрт аккумуляторный DeWALT DCD791", "DeWALT", 98_900,
     "kit", "Пластик", "Бесщеточный двигатель, 70 Н·м, светодиодная подсветка, две скорости."),
    (("Инструменты", "Электроинструмент", "Шуруповёрты"), "Шуруповёрт Bosch GSR 120-LI", "Bosch", 45_990, "kit",
     "Пластик", "Лёгкий шуруповёрт 12 В для сборки мебели и домашнего ремонта."),
    (("Инструменты", "Электроинструмент", "Болгарки"), "Угловая шлифмашина Makita GA5030", "Makita", 36_700, None,
     "Металл", "УШМ 125 мм, 720 Вт, защита от непреднамеренного пуска."),
    (("Инструменты", "Электроинструмент", "Болгарки"), "Угловая шлифмашина Metabo W 850-125", "Metabo", 41_200, None,
     "Металл", "Надёжная болгарка 850 Вт с антивибрационной рукояткой."),
    (("Инструменты", "Ручной инструмент", "Молотки"), "Молоток слесарный Зубр 500 г", "Зубр", 3_490, None,
     "Сталь", "Кованый боёк, фибергласовая рукоятка с противоскользящим покрытием."),
    (("Инструменты", "Ручной инструмент", "Молотки"), "Молоток-гвоздодёр Stanley 450 г", "Stanley", 6_990, None,
     "Сталь", "Гвоздодёр с изогнутым раздвоенным бойком и обрезиненной рукояткой."),
    (("Инструменты", "Ручной инструмент", "Наборы инструментов"), "Набор инструментов Stanley 108 предметов", "Stanley",
     54_900, None, "Сталь", "Головки, биты, ключи и отвёртки в прочном кейсе."),
    (("Инструменты", "Ручной инструмент", "Наборы инструментов"), "Набор отвёрток Зубр Эксперт 12 шт", "Зубр", 8_450,
     None, "Сталь", "Хромованадиевая сталь, магнитные наконечники, двухкомпонентные рукоятки."),
    (("Одежда", "Мужская одежда", "Футболки"), "Футболка мужская базовая хлопок", "Basic Wear", 5_990, "apparel",
     "Хлопок", "Плотный хлопок 180 г/м², классический крой, не садится после стирки."),
    (("Одежда", "Мужская одежда", "Футболки"), "Футболка-поло мужская пике", "Nord Line", 11_490, "apparel",
     "Хлопок", "Поло из хлопкового пике с трикотажным воротником."),
    (("Одежда", "Мужская одежда", "Футболки"), "Футболка мужская Steppe с принтом", "Steppe", 7_990, "apparel",
     "Хлопок", "Футболка с принтом «Степь» — авторская графика, водные краски."),
    (("Одежда", "Мужская одежда", "Толстовки"), "Толстовка мужская с капюшоном", "Urban Step", 18_900, "apparel",
     "Хлопок", "Футер с начёсом, карман-кенгуру, капюшон на кулиске."),
    (("Одежда", "Мужская одежда", "Толстовки"), "Свитшот мужской оверсайз", "Urban Step", 15_900, "apparel",
     "Хлопок", "Свободный крой, мягкий футер, манжеты в рубчик."),
    (("Одежда", "Женская одежда", "Платья"), "Платье трикотажное миди", "Nord Line", 21_990, "apparel",
     "Вискоза", "Платье-футляр из мягкого трикотажа, длина миди."),
    (("Одежда", "Женская одежда", "Платья"), "Платье летнее с цветочным принтом", "Steppe", 17_490, "apparel",
     "Вискоза", "Лёгкое летнее платье с поясом."),
    (("Одежда", "Женская одежда", "Футболки"), "Футболка женская базовая", "Basic Wear", 4_990, "apparel",
     "Хлопок", "Приталенная футболка из хлопка с эластаном."),
    (("Одежда", "Женская одежда", "Футболки"), "Лонгслив женский в рубчик", "Basic Wear", 7_490, "apparel",
     "Хлопок", "Облегающий лонгслив в мелкий рубчик."),
    (("Обувь", "Спортивная обувь", "Кроссовки"), "Кроссовки беговые Demix Flow", "Demix", 29_990, "shoes",
     "Текстиль", "Амортизирующая подошва и дышащий сетчатый верх для бега по асфальту."),
    (("Обувь", "Спортивная обувь", "Кроссовки"), "Кроссовки Nike Revolution 7", "Nike", 36_990, "shoes",
     "Текстиль", "Мягкая пена и лёгкий верх — для бега и на каждый день."),
    (("Обувь", "Спортивная обувь", "Кроссовки"), "Кеды городские Urban Step Classic", "Urban Step", 19_900, "shoes",
     "Текстиль", "Классические кеды из плотного канваса на вулканизированной подошве."),
    (("Электроника", "Смартфоны и гаджеты", "Смартфоны"), "Смартфон Samsung Galaxy A55", "Samsung", 219_990, "phone",
     "Стекло", "Экран Super AMOLED 6,6\", камера 50 Мп, защита IP67."),
    (("Электроника", "Смартфоны и гаджеты", "Смартфоны"), "Смартфон Xiaomi Redmi Note 13", "Xiaomi", 119_990,
     "phone", "Пластик", "AMOLED 120 Гц, аккумулятор 5000 мА·ч, быстрая зарядка 33 Вт."),
    (("Электроника", "Смартфоны и гаджеты", "Смартфоны"), "Смартфон Apple iPhone 15", "Apple", 489_990, "phone",
     "Алюминий", "Dynamic Island, камера 48 Мп, USB-C."),
    (("Электроника", "Смартфоны и гаджеты", "Наушники"), "Наушники беспроводные JBL Tune 520BT", "JBL", 24_990,
     "colour", "Пластик", "До 57 часов работы, складная конструкция, быстрая зарядка."),
    (("Электроника", "Смартфоны и гаджеты", "Наушники"), "Наушники Apple AirPods Pro 2", "Apple", 139_990, None,
     "Пластик", "Активное шумоподавление, прозрачный режим, кейс MagSafe."),
    (("Электроника", "Смартфоны и гаджеты", "Наушники"), "Наушники Sony WH-1000XM5", "Sony", 189_990, "colour",
     "Пластик", "Лучшее в классе шумоподавление и 30 часов работы."),
    (("Электроника", "Смартфоны и гаджеты", "Умные часы"), "Смарт-часы Huawei Watch GT 4", "Huawei", 109_990,
     "colour", "Металл", "Две недели без подзарядки, пульсометр, GPS."),
    (("Электроника", "Смартфоны и гаджеты", "Умные часы"), "Фитнес-браслет Xiaomi Smart Band 8", "Xiaomi", 17_990,
     None, "Пластик", "AMOLED-экран, 150 спортивных режимов, до 16 дней работы."),
    (("Электроника", "Компьютеры", "Ноутбуки"), "Ноутбук Lenovo IdeaPad Slim 3 15\"", "Lenovo", 289_990, None,
     "Пластик", "Intel Core i5, 16 ГБ ОЗУ, SSD 512 ГБ, экран IPS Full HD."),
    (("Электроника", "Компьютеры", "Ноутбуки"), "Ноутбук ASUS VivoBook 16", "ASUS", 339_990, None,
     "Пластик", "AMD Ryzen 7, 16 ГБ, SSD 1 ТБ, экран 16\" WUXGA."),
    (("Электроника", "Компьютеры", "Ноутбуки"), "Ноутбук Apple MacBook Air 13 M2", "Apple", 549_990, "colour",
     "Алюминий", "Чип M2, 8 ГБ, SSD 256 ГБ, до 18 часов работы."),
    (("Электроника", "Компьютеры", "Мониторы"), "Монитор Samsung 27\" S27C390", "Samsung", 79_990, None,
     "Пластик", "Изогнутый VA-экран 1800R, 75 Гц, AMD FreeSync."),
    (("Электроника", "Компьютеры", "Мониторы"), "Монитор LG 24\" 24MP400", "LG", 54_990, None,
     "Пластик", "IPS Full HD, 75 Гц, безрамочный дизайн."),
    (("Дом и сад", "Кухня", "Посуда"), "Сковорода Tefal Expertise 28 см", "Tefal", 24_990, None,
     "Алюминий", "Антипригарное покрытие с индикатором нагрева, подходит для индукции."),
    (("Инструменты", "Электроинструмент", "Болгарки"), "Угловая шлифмашина Bosch GWS 750-125", "Bosch", 29_990, None,
     "Металл", "Лёгкая УШМ 750 Вт с защитным кожухом, регулируемым без инструмента."),
    (("Инструменты", "Ручной инструмент", "Наборы инструментов"), "Набор бит Makita 33 предмета", "Makita", 6_490,
     None, "Сталь", "Биты PH, PZ, Torx и шестигранные с магнитным держателем."),
    (("Одежда", "Женская одежда", "Платья"), "Сарафан льняной", "Steppe", 19_990, "apparel",
     "Лён", "Свободный сарафан из натурального льна на широких бретелях."),
    (("Обувь", "Спортивная обувь", "Кроссовки"), "Кроссовки детские Demix Racer", "Demix", 14_990, "kids_shoes",
     "Текстиль", "Лёгкие кроссовки на липучках для активных детей."),
    (("Электроника", "Смартфоны и гаджеты", "Смартфоны"), "Смартфон Honor X8b", "Honor", 99_990, "phone",
     "Стекло", "Тонкий корпус 6,78 мм, камера 108 Мп, AMOLED-экран."),
    (("Электроника", "Смартфоны и гаджеты", "Наушники"), "Наушники Xiaomi Redmi Buds 5", "Xiaomi", 15_990, "colour",
     "Пластик", "Шумоподавление до 46 дБ, до 40 часов с кейсом."),
    (("Электроника", "Компьютеры", "Мониторы"), "Монитор Xiaomi Mi 27\" 2K", "Xiaomi", 99_990, None,
     "Пластик", "IPS 2560×1440, 75 Гц, тонкие рамки, sRGB 100%."),
    (("Дом и сад", "Кухня", "Посуда"), "Пиалы керамические «Ою» 6 шт", "Home Line", 8_990, None,
     "Керамика", "Набор пиал с казахским орнаментом, можно мыть в посудомоечной машине."),
    (("Дом и сад", "Кухня", "Посуда"), "Набор стаканов 6 шт 250 мл", "Home Line", 5_490, None,
     "Стекло", "Стаканы из закалённого стекла для воды и сока."),
    (("Дом и сад", "Сад", "Садовый инвентарь"), "Тачка садовая 90 л", "Гардена", 34_990, None,
     "Сталь", "Оцинкованный кузов, пневматическое колесо, нагрузка до 150 кг."),
    (("Спорт и отдых", "Туризм", "Палатки"), "Палатка Outventure Teslin 3", "Outventure", 64_990, None,
     "Полиэстер", "Трёхместная палатка с тамбуром, водостойкость тента 3000 мм."),
    (("Спорт и отдых", "Туризм", "Рюкзаки"), "Рюкзак туристический Nordway 45 л", "Nordway", 32_990, "colour",
     "Полиэстер", "Анатомическая спинка, поясной ремень, чехол от дождя."),
    (("Спорт и отдых", "Фитнес", "Коврики для йоги"), "Коврик для йоги Demix 6 мм", "Demix", 7_990, "colour",
     "ТПЭ", "Нескользящий двусторонний коврик 183×61 см."),
    (("Спорт и отдых", "Фитнес", "Гантели"), "Гантели разборные Torneo 2×10 кг", "Torneo", 24_990, None,
     "Чугун", "Набор из двух грифов и чугунных блинов в кейсе."),
    (("Дом и сад", "Кухня", "Посуда"), "Набор кастрюль Home Line 6 предметов", "Home Line", 39_990, None,
     "Сталь", "Нержавеющая сталь, стеклянные крышки, капсульное дно."),
    (("Дом и сад", "Кухня", "Посуда"), "Казан чугунный 8 л", "Home Line", 27_500, None,
     "Чугун", "Классический чугунный казан для плова с крышкой."),
    (("Дом и сад", "Кухня", "Посуда"), "Набор ножей Fiskars Functional Form 3 шт", "Fiskars", 29_990, None,
     "Сталь", "Поварской, универсальный и нож для овощей из японской стали."),
    (("Дом и сад", "Кухня", "Чайники"), "Чайник электрический Redmond RK-G178", "Redmond", 14_990, "colour",
     "Стекло", "Стеклянная колба 1,7 л, подсветка, защита от включения без воды."),
    (("Дом и сад", "Кухня", "Чайники"), "Чайник электрический Xiaomi Mi Kettle", "Xiaomi", 12_490, None,
     "Пластик", "Двойные стенки, 1,5 л, автоотключение."),
    (("Дом и сад", "Сад", "Садовый инвентарь"), "Лопата штыковая Fiskars Solid", "Fiskars", 11_990, None,
     "Сталь", "Закалённое лезвие из бористой стали, прочный черенок."),
    (("Дом и сад", "Сад", "Садовый инвентарь"), "Секатор Гардена B/S-XL", "Гардена", 8_990, None,
     "Сталь", "Плоскостной секатор для живых веток до 24 мм."),
    (("Дом и сад", "Сад", "Садовый инвентарь"), "Шланг поливочный 25 м с насадкой", "Гардена", 9_490, None,
     "ПВХ", "Армированный трёхслойный шланг, пистолет-распылитель в комплекте."),
    (("Дом и сад", "Сад", "Садовый инвентарь"), "Грабли веерные Fiskars", "Fiskars", 7_990, None,
     "Сталь", "Регулируемая ширина захвата, лёгкий алюминиевый черенок."),
    (("Инструменты", "Электроинструмент", "Дрели"), "Дрель Интерскол ДУ-13/780ЭР (снята с продажи)", "Интерскол",
     19_900, None, "Металл", "Модель снята с производства."),
]
# fmt: on

# fmt: off
_DEMO_AXES = {
    "apparel": [("Размер", ["S", "M", "L", "XL"]), ("Цвет", ["Белый", "Чёрный"])],
    "shoes": [("Размер", ["39", "40", "41", "42", "43", "44"])],
    "kids_shoes": [("Размер", ["28", "30", "32", "34"])],
    "phone": [("Память", ["128 ГБ", "256 ГБ"]), ("Цвет", ["Чёрный", "Синий"])],
    "colour": [("Цвет", ["Чёрный", "Белый", "Серебристый"])],
    "kit": [("Комплектация", ["Без АКБ", "2 АКБ и зарядное"])],
}
# fmt: on


class DemoCatalogue(CatalogueModel):
    """A small, readable Russian shop for the demo: tools, clothes with sizes and colours, electronics."""

    schema_name = "Каталог интернет-магазина"

    def __init__(
        self,
        *,
        seed=1,
        images=True,
        warehouses=3,
        price_types=DEFAULT_PRICE_TYPES,
        currency="KZT",
        deleted_share=0.02,
    ):
        super().__init__(seed=seed, price_types=price_types, warehouses=warehouses, currency=currency)
        self.images = images
        self.with_deleted = deleted_share > 0
        self.groups = self._group_tree(_DEMO_TREE)
        self.group_by_path = {}
        for top in self.groups:
            for middle in top.children:
                for leaf in middle.children:
                    self.group_by_path[(top.name, middle.name, leaf.name)] = leaf.id
        brands = sorted({row[2] for row in _DEMO_PRODUCTS})
        self.brand = self._reference_property("brand", "Производитель", brands)
        self.country = self._reference_property("country", "Страна производства", _COUNTRIES)
        self.material = self._plain_property("material", "Материал", "Строка")
        self.warranty = self._plain_property("warranty", "Гарантия, мес", "Число")
        self.image_colours = {}
        self.products = len(_DEMO_PRODUCTS) if self.with_deleted else len(_DEMO_PRODUCTS) - 1

    def iter_products(self):
        for index, row in enumerate(_DEMO_PRODUCTS[: self.products]):
            yield self.product(index, row)

    def product(self, index, row):
        path, name, brand, retail, axes_key, material, description = row
        seed = self.seed
        rng = random.Random(f"{seed}/demo/{index}")
        product_id = make_id(seed, "demo-product", index)
        article = f"{path[0][:2].upper()}-{1000 + index * 7}"
        deleted = index == len(_DEMO_PRODUCTS) - 1
        retail = Decimal(retail)
        discounted = index % 3 == 0
        # A few products are sold out or nearly: the storefront shows that.
        out_of_stock = index % 17 == 5
        low = index % 11 == 3
        version = version_number(seed, "demo", index)
        offers = []
        if not deleted and axes_key:
            axes = _DEMO_AXES[axes_key]
            combos = [()]
            for _, values in axes:
                combos = [(*combo, value) for combo in combos for value in values]
            # Two combinations of a product with two characteristics are sold out (S/Чёрный and
            # XL/Белый): the product page disables what cannot be bought with the choice made.
            sold_out = set()
            if len(axes) > 1:
                first, second = axes[0][1], axes[1][1]
                sold_out = {(first[0], second[-1]), (first[-1], second[0])}
            for position, values in enumerate(combos):
                characteristic_id = make_id(seed, "demo-characteristic", product_id, *values)
                extra = Decimal(position // len(axes[-1][1])) * (retail / 10 if axes_key == "phone" else 0)
                offers.append(
                    OfferSpec(
                        id=f"{product_id}#{characteristic_id}",
                        product_id=product_id,
                        characteristic_id=characteristic_id,
                        name=f"{name} ({', '.join(values)})",
                        article=article,
                        characteristics=[(axis, value) for (axis, _), value in zip(axes, values)],
                        prices=self._prices(rng, (retail + extra).quantize(_ONE), discounted),
                        stocks=self._stocks(
                            rng, out_of_stock=out_of_stock or values[:2] in sold_out, low=low
                        ),
                        version=version,
                    )
                )
        elif not deleted:
            offers.append(
                OfferSpec(
                    id=product_id,
                    product_id=product_id,
                    name=name,
                    article=article,
                    prices=self._prices(rng, retail, discounted),
                    stocks=self._stocks(rng, out_of_stock=out_of_stock, low=low),
                    version=version,
                )
            )
        properties = [
            (self.brand.id, self.brand.option_id(brand)),
            (self.country.id, self.country.options[rng.randrange(len(self.country.options))][0]),
            (self.material.id, material),
            (self.warranty.id, "24" if path[0] in ("Инструменты", "Электроника") else "0"),
        ]
        images = []
        if self.images and not deleted:
            images = self._image_paths(product_id, 2 if index % 4 == 0 else 1)
            for image in images:
                self.image_colours[image] = _DEMO_COLOURS[path[0]]
        return ProductSpec(
            id=product_id,
            index=index,
            name=name,
            article=article,
            barcode=ean13(487_000_000_000 + (seed % 1000) * 100_000 + index),
            group_ids=[self.group_by_path[path]],
            description=description,
            kind=path[-1],
            full_name=name,
            properties=properties,
            images=images,
            deleted=deleted,
            offers=offers,
            version=version,
        )

    def image_png(self, path):
        rgb, accent = self.image_colours.get(path, ((120, 120, 120), (220, 220, 220)))
        return png_bytes(240, 240, rgb, accent=accent, comment=path)


# --------------------------------------------------------------------------------------
# Writing the files.
# --------------------------------------------------------------------------------------


class _CmlWriter:
    """
    One CommerceML file written incrementally. 1C indents with tabs and puts each element
    on its own line; this does the same (readers must not care, but people read files).
    """

    def __init__(self, path, *, schema, encoding, generated_at):
        self.path = Path(path)
        self.schema = schema
        self.encoding = encoding
        self.generated_at = generated_at
        self.ns = NS_3 if schema.startswith("3") else NS_2
        self.prefix = f"{{{self.ns}}}"
        self.depth = 0

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.raw = open(self.path, "wb")
        if self.encoding == "utf-8":
            # 1C writes a UTF-8 byte order mark before the declaration.
            self.raw.write(codecs.BOM_UTF8)
            self.raw.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        else:
            self.raw.write(f'<?xml version="1.0" encoding="{self.encoding}"?>\n'.encode("ascii"))
        self._xf_cm = etree.xmlfile(self.raw, encoding=self.encoding, buffered=True)
        self.xf = self._xf_cm.__enter__()
        self._root_cm = self.xf.element(
            self.prefix + "КоммерческаяИнформация",
            {"ВерсияСхемы": self.schema, "ДатаФормирования": self.generated_at.strftime("%Y-%m-%dT%H:%M:%S")},
            nsmap={None: self.ns, "xs": XS_NS, "xsi": XSI_NS},
        )
        self._root_cm.__enter__()
        self.depth = 1
        return self

    def __exit__(self, *exc):
        try:
            self.xf.write("\n")
            self._root_cm.__exit__(*exc)
            self._xf_cm.__exit__(*exc)
            self.raw.write(b"\n")
        finally:
            self.raw.close()
        return False

    def node(self, tag, attrib=None):
        """``with w.node("Товары"):`` — an element whose children follow."""
        return _Node(self, tag, attrib)

    def leaf(self, tag, text=None, attrib=None):
        self.xf.write("\n" + "\t" * self.depth)
        with self.xf.element(self.prefix + tag, attrib or {}):
            if text is not None and text != "":
                self.xf.write(str(text))

    def leaves(self, *pairs):
        for tag, text in pairs:
            self.leaf(tag, text)


class _Node:
    def __init__(self, writer, tag, attrib):
        self.writer, self.tag, self.attrib = writer, tag, attrib

    def __enter__(self):
        w = self.writer
        w.xf.write("\n" + "\t" * w.depth)
        self.cm = w.xf.element(w.prefix + self.tag, self.attrib or {})
        self.cm.__enter__()
        w.depth += 1
        return w

    def __exit__(self, *exc):
        w = self.writer
        w.depth -= 1
        w.xf.write("\n" + "\t" * w.depth)
        return self.cm.__exit__(*exc)


def _money(value):
    text = format(value, "f")
    return text.removesuffix(".00")


def _presentation(value, currency):
    whole, _, cents = format(value.quantize(_CENT), "f").partition(".")
    grouped = f"{int(whole):,}".replace(",", " ")
    return f"{grouped}{'.' + cents if cents != '00' else ''} {currency} за шт"


class ExchangeWriter:
    """Writes the files of one exchange of a :class:`CatalogueModel` in a schema and encoding."""

    def __init__(self, model, *, schema, encoding, generated_at, guid_names=False):
        if schema not in SCHEMAS:
            raise ValueError(f"schema must be one of {SCHEMAS}, not {schema!r}")
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
        self.model = model
        self.schema = schema
        self.encoding = encoding
        self.generated_at = generated_at
        self.guid_names = guid_names
        self.v3 = schema.startswith("3")
        #: What write_import saw: products and the offers they have.
        self.counts = {"products": 0, "offers": 0}
        self._folders = set()

    # File names ---------------------------------------------------------------------

    def file_name(self, kind, changes=False):
        """``import.xml`` or, as the 1C-Bitrix module names them, ``import___<guid>.xml``."""
        if not self.guid_names:
            return f"{kind}.xml"
        return f"{kind}___{make_id(self.model.seed, 'file', kind, changes)}.xml"

    def open(self, out_dir, name):
        return _CmlWriter(
            Path(out_dir) / name, schema=self.schema, encoding=self.encoding, generated_at=self.generated_at
        )

    # Pieces shared by several files ---------------------------------------------------

    def _owner(self, w):
        model = self.model
        with w.node("Владелец"):
            w.leaves(
                ("Ид", model.owner_id),
                ("Наименование", model.owner_name),
                (
                    "ОфициальноеНаименование",
                    f"Товарищество с ограниченной ответственностью {model.owner_name}",
                ),
                ("ИНН", "7707083893"),
                ("КПП", "770701001"),
            )

    def _deletion_mark(self, w, number, deleted=False):
        if self.v3:
            w.leaf("НомерВерсии", number)
            w.leaf("ПометкаУдаления", "true" if deleted else "false")

    def _groups(self, w, groups):
        with w.node("Группы"):
            for group in groups:
                with w.node("Группа"):
                    w.leaf("Ид", group.id)
                    self._deletion_mark(w, version_number(self.model.seed, "group", group.id))
                    w.leaf("Наименование", group.name)
                    if group.children:
                        self._groups(w, group.children)

    def _properties(self, w):
        with w.node("Свойства"):
            for prop in self.model.properties:
                with w.node("Свойство"):
                    w.leaf("Ид", prop.id)
                    self._deletion_mark(w, version_number(self.model.seed, "property", prop.id))
                    w.leaf("Наименование", prop.name)
                    w.leaf("ТипЗначений", prop.value_type)
                    if prop.options:
                        with w.node("ВариантыЗначений"):
                            for option_id, value in prop.options:
                                with w.node("Справочник"):
                                    w.leaf("ИдЗначения", option_id)
                                    w.leaf("Значение", value)

    def _price_types(self, w):
        with w.node("ТипыЦен"):
            for price_type in self.model.price_types:
                with w.node("ТипЦены"):
                    w.leaf("Ид", price_type.id)
                    self._deletion_mark(w, version_number(self.model.seed, "price-type", price_type.id))
                    w.leaf("Наименование", price_type.name)
                    w.leaf("Валюта", price_type.currency)
                    with w.node("Налог"):
                        w.leaf("Наименование", "НДС")
                        w.leaf("УчтеноВСумме", "true")

    def _warehouses(self, w):
        with w.node("Склады"):
            for warehouse in self.model.warehouses:
                with w.node("Склад"):
                    w.leaf("Ид", warehouse.id)
                    self._deletion_mark(w, version_number(self.model.seed, "warehouse", warehouse.id))
                    w.leaf("Наименование", warehouse.name)

    def _unit(self, w):
        if self.v3:
            # 3.1 refers to the classifier's ЕдиницыИзмерения by Ид.
            w.leaf("БазоваяЕдиница", "796")
            return
        w.leaf(
            "БазоваяЕдиница",
            "шт",
            {"Код": "796 ", "НаименованиеПолное": "Штука", "МеждународноеСокращение": "PCE"},
        )

    def _package_head(self, w, changes_only):
        """The opening of a ПакетПредложений (its first children)."""
        model = self.model
        w.leaf("Ид", f"{model.catalogue_id}#")
        w.leaf("Наименование", f"Пакет предложений ({model.schema_name})")
        w.leaf("ИдКаталога", model.catalogue_id)
        w.leaf("ИдКлассификатора", model.catalogue_id)

    def _prices_node(self, w, offer):
        by_id = {price_type.id: price_type for price_type in self.model.price_types}
        with w.node("Цены"):
            for type_id, value in offer.prices.items():
                currency = by_id[type_id].currency
                with w.node("Цена"):
                    w.leaf("Представление", _presentation(value, currency))
                    w.leaf("ИдТипаЦены", type_id)
                    w.leaf("ЦенаЗаЕдиницу", _money(value))
                    w.leaf("Валюта", currency)
                    w.leaf("Единица", "796")
                    w.leaf("Коэффициент", "1")

    def _characteristics(self, w, offer):
        if offer.characteristics:
            with w.node("ХарактеристикиТовара"):
                for name, value in offer.characteristics:
                    with w.node("ХарактеристикаТовара"):
                        w.leaf("Наименование", name)
                        w.leaf("Значение", value)

    # import.xml ------------------------------------------------------------------------

    def _open_import(self, stack, out_dir):
        """Open ``import.xml`` and write it up to ``<Товары>``; products are written into it."""
        model = self.model
        name = self.file_name("import")
        w = stack.enter_context(self.open(out_dir, name))
        with w.node("Классификатор", {"СодержитТолькоИзменения": "false"} if self.v3 else None):
            w.leaf("Ид", model.catalogue_id)
            w.leaf("Наименование", f"Классификатор ({model.schema_name})")
            self._owner(w)
            self._groups(w, model.groups)
            self._properties(w)
            if self.v3:
                self._price_types(w)
                self._warehouses(w)
                with w.node("ЕдиницыИзмерения"), w.node("ЕдиницаИзмерения"):
                    w.leaves(
                        ("Ид", "796"),
                        ("НомерВерсии", "AAAAAQAAAAE="),
                        ("ПометкаУдаления", "false"),
                        ("НаименованиеКраткое", "шт"),
                        ("Код", "796"),
                        ("НаименованиеПолное", "Штука"),
                        ("МеждународноеСокращение", "PCE"),
                    )
        stack.enter_context(w.node("Каталог", {"СодержитТолькоИзменения": "false"}))
        w.leaf("Ид", model.catalogue_id)
        w.leaf("ИдКлассификатора", model.catalogue_id)
        w.leaf("Наименование", model.schema_name)
        self._owner(w)
        stack.enter_context(w.node("Товары"))
        return name, w

    def _product(self, w, product):
        attrib = {"Статус": "Удален"} if product.deleted and not self.v3 else None
        with w.node("Товар", attrib):
            w.leaf("Ид", product.id)
            self._deletion_mark(w, product.version, product.deleted)
            w.leaf("Штрихкод", product.barcode)
            w.leaf("Артикул", product.article)
            w.leaf("Наименование", product.name)
            self._unit(w)
            with w.node("Группы"):
                for group_id in product.group_ids:
                    w.leaf("Ид", group_id)
            w.leaf("Описание", product.description)
            for image in product.images:
                w.leaf("Картинка", image)
            with w.node("ЗначенияСвойств"):
                for prop_id, value in product.properties:
                    with w.node("ЗначенияСвойства"):
                        w.leaf("Ид", prop_id)
                        w.leaf("Значение", value)
            with w.node("СтавкиНалогов"), w.node("СтавкаНалога"):
                w.leaf("Наименование", "НДС")
                w.leaf("Ставка", product.tax_rate)
            with w.node("ЗначенияРеквизитов"):
                requisites = [
                    ("ВидНоменклатуры", product.kind),
                    ("ТипНоменклатуры", "Товар"),
                    ("Полное наименование", product.full_name),
                ]
                if product.images:
                    requisites.append(("ОписаниеФайла", f"{product.images[0]}#{product.name}"))
                for requisite, value in requisites:
                    with w.node("ЗначениеРеквизита"):
                        w.leaf("Наименование", requisite)
                        w.leaf("Значение", value)

    def _write_images(self, out_dir, product):
        for image in product.images:
            target = Path(out_dir) / image
            if target.parent not in self._folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(target.parent)
            target.write_bytes(self.model.image_png(image))

    # Offers ------------------------------------------------------------------------------

    def offer_kinds(self):
        """The offer files of this schema: 2.08 one ``offers``; 3.1 ``offers``, ``prices``, ``rests``."""
        return ("offers", "prices", "rests") if self.v3 else ("offers",)

    def _open_offers(self, stack, out_dir, kind, changes_only):
        """
        Open one offers-package file and write it up to ``<Предложения>``.
        2.08 ``offers``: ТипыЦен, Склады, then prices, total and per-warehouse stock.
        3.1 ``offers``: names and characteristics only; ``prices``: ТипыЦен and Цены;
        ``rests``: Склады and ``<Остатки>``.
        """
        name = self.file_name(kind, changes_only)
        w = stack.enter_context(self.open(out_dir, name))
        stack.enter_context(
            w.node("ПакетПредложений", {"СодержитТолькоИзменения": "true" if changes_only else "false"})
        )
        self._package_head(w, changes_only)
        if kind == "offers" and not self.v3:
            self._owner(w)
            self._price_types(w)
            self._warehouses(w)
        elif kind == "prices":
            self._price_types(w)
        elif kind == "rests":
            self._warehouses(w)
        stack.enter_context(w.node("Предложения"))
        return name, w

    def _offer(self, w, kind, offer):
        with w.node("Предложение"):
            w.leaf("Ид", offer.id)
            if kind == "prices":
                self._prices_node(w, offer)
                return
            if kind == "rests":
                with w.node("Остатки"):
                    for warehouse_id, qty in offer.stocks:
                        with w.node("Остаток"), w.node("Склад"):
                            w.leaf("Ид", warehouse_id)
                            w.leaf("Количество", qty)
                return
            self._deletion_mark(w, offer.version)
            w.leaf("Артикул", offer.article)
            w.leaf("Наименование", offer.name)
            self._unit(w)
            self._characteristics(w, offer)
            if self.v3:
                return
            self._prices_node(w, offer)
            w.leaf("Количество", offer.quantity)
            for warehouse_id, qty in offer.stocks:
                w.leaf("Склад", None, {"ИдСклада": warehouse_id, "КоличествоНаСкладе": str(qty)})

    def _emit(self, offer_writers, offers):
        for offer in offers:
            for kind, w in offer_writers:
                self._offer(w, kind, offer)

    # Whole packages ------------------------------------------------------------------------

    def write_full(self, out_dir, *, images=True):
        """
        A full exchange in ONE pass over the products: import.xml, the offer files and the
        pictures are written side by side, so each product is generated once and dropped.
        Returns the file names in the order 1C sends them and the picture paths.
        """
        order = OfferOrder(self.model.seed)
        image_paths = []
        with ExitStack() as stack:
            import_name, import_writer = self._open_import(stack, out_dir)
            opened = [self._open_offers(stack, out_dir, kind, False) for kind in self.offer_kinds()]
            offer_writers = [(kind, w) for kind, (_, w) in zip(self.offer_kinds(), opened)]
            for product in self.model.iter_products():
                self._product(import_writer, product)
                if images:
                    self._write_images(out_dir, product)
                    image_paths.extend(product.images)
                self.counts["products"] += 1
                self.counts["offers"] += len(product.offers)
                for offer in product.offers:
                    self._emit(offer_writers, order.push(offer))
            self._emit(offer_writers, order.finish())
        return [import_name, *(name for name, _ in opened)], image_paths

    def write_changes(self, out_dir, offers):
        """A changes-only package of ``offers``: 2.08 ``offers.xml``; 3.1 ``prices.xml`` + ``rests.xml``."""
        kinds = ("prices", "rests") if self.v3 else ("offers",)
        order = OfferOrder(self.model.seed)
        with ExitStack() as stack:
            opened = [self._open_offers(stack, out_dir, kind, True) for kind in kinds]
            offer_writers = [(kind, w) for kind, (_, w) in zip(kinds, opened)]
            for offer in offers:
                self._emit(offer_writers, order.push(offer))
            self._emit(offer_writers, order.finish())
        return [name for name, _ in opened]


class OfferOrder:
    """
    The order offers go into the file. 1C does not promise that the variants of a
    product follow each other, so neither does this: offers pass in windows, half of the
    windows are shuffled and some variants are held back into the next window. Memory
    stays at one window whatever the catalogue size.
    """

    WINDOW = 48

    def __init__(self, seed):
        self.rng = random.Random(f"{seed}/offer-order")
        self.window = []
        self.carried = []

    def push(self, offer):
        """Take one offer; return the offers now due in the file (often none)."""
        self.window.append(offer)
        if len(self.window) < self.WINDOW:
            return []
        return self._mix()

    def finish(self):
        """Everything still held, in its final order."""
        out = self._mix()
        held, self.carried = self.carried, []
        return out + held

    def _mix(self):
        window, self.window = self.window + self.carried, []
        self.carried = []
        keep = []
        for offer in window:
            if offer.characteristic_id and self.rng.random() < 0.15:
                self.carried.append(offer)
            else:
                keep.append(offer)
        if self.rng.random() < 0.5:
            self.rng.shuffle(keep)
        return keep


# --------------------------------------------------------------------------------------
# The public API.
# --------------------------------------------------------------------------------------


@dataclass
class GeneratedExchange:
    """
    What :func:`generate_exchange` wrote. ``files`` are the XML files in the order 1C
    sends and imports them; ``images`` are the paths (relative to ``dir``) of pictures.
    """

    dir: Path
    files: list[Path]
    schema: str
    encoding: str
    images: list[str]
    products: int
    offers: int
    changes_only: bool
    model: CatalogueModel
    #: For a changes-only package: the offers it changes (with their new values).
    changed: list[OfferSpec] | None = None

    @property
    def file_names(self):
        return [path.name for path in self.files]

    def expected(self):
        """
        What the shop should hold after importing this package, as plain dicts::

            {
              "schema", "changes_only",
              "groups": {Ид: {"name", "parent_id"}},
              "price_types": {Ид: name}, "warehouses": {Ид: name},
              "products": {Ид: {"name", "article", "barcode", "group_ids", "deleted",
                                "structure": "standalone"|"parent", "images": [path…],
                                "offer_ids": […]}},
              "product_ids": [visible product Ид…], "deleted_ids": [deleted product Ид…],
              "offers": {offer Ид: {"product_id", "characteristic_id", "name",
                                    "characteristics": {name: value},
                                    "prices": {price type name: Decimal},
                                    "stocks": {warehouse Ид: int}, "quantity": int}},
            }

        For a changes-only package ``products``/``groups`` are empty and ``offers`` holds
        only the offers it changes, with their new values: the package says nothing about
        the others. Builds everything in memory: meant for test-sized packages.
        """
        model = self.model
        type_names = {price_type.id: price_type.name for price_type in model.price_types}

        def offer_dict(offer):
            return {
                "product_id": offer.product_id,
                "characteristic_id": offer.characteristic_id,
                "name": offer.name,
                "characteristics": dict(offer.characteristics),
                "prices": {type_names[type_id]: value for type_id, value in offer.prices.items()},
                "stocks": dict(offer.stocks),
                "quantity": offer.quantity,
            }

        result = {
            "schema": self.schema,
            "changes_only": self.changes_only,
            "price_types": type_names,
            "warehouses": {warehouse.id: warehouse.name for warehouse in model.warehouses},
            "groups": {},
            "products": {},
            "product_ids": [],
            "deleted_ids": [],
            "offers": {},
        }
        if self.changes_only:
            result["offers"] = {offer.id: offer_dict(offer) for offer in self.changed}
            return result
        result["groups"] = {
            group.id: {"name": group.name, "parent_id": group.parent_id} for group in model.all_groups()
        }
        for product in model.iter_products():
            result["products"][product.id] = {
                "name": product.name,
                "article": product.article,
                "barcode": product.barcode,
                "group_ids": list(product.group_ids),
                "deleted": product.deleted,
                "structure": "parent" if product.has_variants else "standalone",
                "images": list(product.images),
                "offer_ids": [offer.id for offer in product.offers],
            }
            (result["deleted_ids"] if product.deleted else result["product_ids"]).append(product.id)
            for offer in product.offers:
                result["offers"][offer.id] = offer_dict(offer)
        return result


def build_model(
    *,
    products=100,
    seed=1,
    variant_share=0.25,
    variants=(2, 4),
    warehouses=3,
    price_types=DEFAULT_PRICE_TYPES,
    images=True,
    deleted_share=0.02,
    demo=False,
    currency="KZT",
):
    """The catalogue a generated exchange describes (see :func:`generate_exchange`)."""
    if demo:
        return DemoCatalogue(
            seed=seed,
            images=images,
            warehouses=warehouses,
            price_types=price_types,
            currency=currency,
            deleted_share=deleted_share,
        )
    return SyntheticCatalogue(
        products=products,
        seed=seed,
        variant_share=variant_share,
        variants=variants,
        deleted_share=deleted_share,
        images=images,
        warehouses=warehouses,
        price_types=price_types,
        currency=currency,
    )


def generate_exchange(
    out_dir,
    *,
    products=100,
    schema="2.08",
    encoding="utf-8",
    variant_share=0.25,
    variants=(2, 4),
    warehouses=3,
    price_types=DEFAULT_PRICE_TYPES,
    images=True,
    deleted_share=0.02,
    seed=1,
    changes_only=False,
    changed_offers=10_000,
    demo=False,
    currency="KZT",
    generated_at=None,
    guid_names=False,
):
    """
    Write a full 1C catalogue exchange into ``out_dir`` and describe it.

    ``changes_only=True`` writes instead a changes-only offers package for
    ``changed_offers`` offers of the catalogue the same arguments describe (see
    :func:`generate_offer_changes`). ``demo=True`` writes the ~60-product demo shop
    (``products`` and ``variant_share`` are then ignored). ``generated_at`` fixes
    ``ДатаФормирования`` (default: now), which makes the output byte-identical per seed.
    """
    model_args = {
        "products": products,
        "seed": seed,
        "variant_share": variant_share,
        "variants": variants,
        "warehouses": warehouses,
        "price_types": price_types,
        "images": images,
        "deleted_share": deleted_share,
        "demo": demo,
        "currency": currency,
    }
    if changes_only:
        return generate_offer_changes(
            out_dir,
            base_seed=seed,
            offers=changed_offers,
            schema=schema,
            encoding=encoding,
            generated_at=generated_at,
            guid_names=guid_names,
            **{k: v for k, v in model_args.items() if k != "seed"},
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(**model_args)
    writer = ExchangeWriter(
        model,
        schema=schema,
        encoding=encoding,
        generated_at=generated_at or datetime.now().replace(microsecond=0),
        guid_names=guid_names,
    )
    names, image_paths = writer.write_full(out_dir, images=images)
    return GeneratedExchange(
        dir=out_dir,
        files=[out_dir / name for name in names],
        schema=schema,
        encoding=encoding,
        images=image_paths,
        products=writer.counts["products"],
        offers=writer.counts["offers"],
        changes_only=False,
        model=model,
    )


def generate_offer_changes(
    out_dir,
    *,
    base_seed=1,
    offers=10_000,
    change_seed=1,
    schema="2.08",
    encoding="utf-8",
    generated_at=None,
    guid_names=False,
    **model_args,
):
    """
    Write a changes-only package (``СодержитТолькоИзменения="true"``) that changes the
    prices and stock of ``offers`` existing offers of the catalogue generated with
    ``base_seed`` and the same ``model_args`` (products, variant_share, …). 2.08 writes
    ``offers.xml``; 3.1 writes ``prices.xml`` and ``rests.xml``. The chosen offers and their
    new values depend only on the seeds.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(seed=base_seed, **model_args)
    total = sum(len(product.offers) for product in model.iter_products())
    chosen = set(random.Random(f"{base_seed}/changes/{change_seed}").sample(range(total), min(offers, total)))
    changed = []
    position = 0
    for product in model.iter_products():
        for offer in product.offers:
            if position in chosen:
                changed.append(_changed_offer(model, offer, change_seed))
            position += 1
    writer = ExchangeWriter(
        model,
        schema=schema,
        encoding=encoding,
        generated_at=generated_at or datetime.now().replace(microsecond=0),
        guid_names=guid_names,
    )
    names = writer.write_changes(out_dir, changed)
    return GeneratedExchange(
        dir=out_dir,
        files=[out_dir / name for name in names],
        schema=schema,
        encoding=encoding,
        images=[],
        products=0,
        offers=len(changed),
        changes_only=True,
        model=model,
        changed=changed,
    )


def _changed_offer(model, offer, change_seed):
    """The same offer with a new retail price (all types follow it) and new stock."""
    rng = random.Random(f"{model.seed}/change/{change_seed}/{offer.id}")
    retail_type = model.price_types[0]
    old_retail = offer.prices.get(retail_type.id) or next(iter(offer.prices.values()))
    factor = Decimal(rng.choice([90, 95, 105, 110, 115, 120])) / 100
    new_retail = _shop_price(old_retail / retail_type.factor * factor)
    discounted = any(
        price_type.optional and price_type.id in offer.prices for price_type in model.price_types
    )
    return OfferSpec(
        id=offer.id,
        product_id=offer.product_id,
        name=offer.name,
        article=offer.article,
        characteristic_id=offer.characteristic_id,
        characteristics=list(offer.characteristics),
        prices=model._prices(rng, new_retail, discounted),
        stocks=model._stocks(rng),
        version=offer.version,
    )
