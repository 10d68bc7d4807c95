"""
Plain records that the CommerceML readers yield and the services consume.

A reader turns one file into a stream: first a :class:`Document` describing the file,
then records in document order. Nothing here touches the database, so readers are fast
to test and can be reused by the generator's tests and by the benchmark.

Fields that a file did not carry are ``None`` (not empty), so that a changes-only
package never erases what it did not mention: e.g. an offer in a rests-only file has
``prices=None`` and a prices-only file gives ``stocks=None, quantity=None``.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

# Document kinds, detected from the content, never from the file name.
CLASSIFIER = "classifier"  # Классификатор alone (3.1 sends it in its own file)
CATALOGUE = "catalogue"  # Каталог (+ usually Классификатор): groups, properties, products
OFFERS = "offers"  # ПакетПредложений with prices and/or stock
OFFERS_CHANGES = "offers_changes"  # ИзмененияПакетаПредложений
ORDERS = "orders"  # Документ / Контейнер: order documents (type=sale)
KINDS = (CLASSIFIER, CATALOGUE, OFFERS, OFFERS_CHANGES, ORDERS)


def record(cls):
    """
    A record class: a dataclass with slots, pickled as the tuple of its field values
    and rebuilt by calling the class with them. Records travel pickled from the process
    that reads a file to the importer (``services.reading``): the reading process, which
    a repeated package waits for, pickles them, and the importer unpickles them while it
    imports. Python's own pickling of a slotted object (its slots as a dict, set one by
    one on an empty object) was a fifth slower to pickle and a third slower to unpickle.
    """
    cls = dataclass(slots=True)(cls)
    names = tuple(f.name for f in fields(cls))
    get = attrgetter(*names)
    single = len(names) == 1

    def __reduce__(self):
        return cls, (get(self),) if single else get(self)

    cls.__reduce__ = __reduce__
    return cls


@record
class Document:
    """The first record of every stream: what the file is."""

    kind: str
    schema_version: str = ""
    generated_at: datetime | None = None
    #: СодержитТолькоИзменения; None when the file does not say (treat as changes only).
    changes_only: bool | None = None
    catalogue_id: str = ""
    classifier_id: str = ""
    #: Наименование of the Каталог / ПакетПредложений (of the Классификатор for a
    #: classifier file), e.g. "Пакет предложений (Основной каталог товаров)".
    name: str = ""


@record
class Notice:
    """A warning of the reader about the file itself (e.g. a text node cut to the size limit)."""

    message: str


@record
class Group:
    """Группа. Yielded parents before children; ``parent_id`` None for a top group."""

    id: str
    name: str
    parent_id: str | None = None
    deleted: bool = False
    position: int = 0


@record
class Property:
    """Свойство. ``value_type``: "string", "number", "reference" (Справочник), "date", "boolean"."""

    id: str
    name: str
    value_type: str = "string"
    #: For Справочник: (ИдЗначения, Значение) pairs.
    options: list[tuple[str, str]] = field(default_factory=list)
    #: Свойство applies to offers (ДляПредложений) rather than products.
    for_offers: bool = False


@record
class PriceType:
    """ТипЦены."""

    id: str
    name: str
    currency: str = ""
    tax_included: bool | None = None


@record
class Warehouse:
    """Склад."""

    id: str
    name: str
    address: str = ""


@record
class Unit:
    """
    ЕдиницаИзмерения of a Классификатор (2.09+, 3.1). Schema 3.1 products then name
    their unit only by reference (``<БазоваяЕдиница>2009</БазоваяЕдиница>``), matching
    ``id`` or ``code`` here, often from another file of the same exchange.
    """

    id: str
    code: str = ""
    #: НаименованиеКраткое, e.g. "шт".
    name: str = ""
    full_name: str = ""
    international: str = ""


@record
class Image:
    """Картинка: a path relative to the exchange folder, with an optional caption."""

    path: str
    caption: str = ""


@record
class Product:
    """
    Товар in a Каталог. Older configurations (УТ 10.x) send every characteristic as a
    Товар of its own with ``Ид`` = ``product#characteristic``: then ``product_id`` /
    ``characteristic_id`` are its halves and the services make it a variant of the
    product ``product_id`` (created from the items when the file has no Товар for it).
    For an ordinary Товар ``product_id`` is ``id`` and ``characteristic_id`` None.
    """

    id: str
    name: str
    product_id: str = ""
    characteristic_id: str | None = None
    article: str = ""
    barcode: str = ""
    description: str = ""
    #: БазоваяЕдиница: (code stripped, short name such as "шт").
    unit_code: str = ""
    unit_name: str = ""
    group_ids: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    #: ЗначенияСвойств: (property Ид, value). For a Справочник the value is the ИдЗначения.
    properties: list[tuple[str, str]] = field(default_factory=list)
    #: ЗначенияРеквизитов: name -> value ("Полное наименование", "ВидНоменклатуры", …).
    requisites: dict[str, str] = field(default_factory=dict)
    #: СтавкиНалогов: (name, rate as written, e.g. "18", "Без налога").
    tax_rates: list[tuple[str, str]] = field(default_factory=list)
    #: ХарактеристикиТовара at product level: (name, value).
    characteristics: list[tuple[str, str]] = field(default_factory=list)
    manufacturer: str = ""
    deleted: bool = False
    version: str = ""
    #: Service properties of 1C and of Bitrix's exports (CML2_ACTIVE, CML2_SORT, …)
    #: that change what the shop does rather than what it shows, see ``service``.
    active: bool | None = None
    sort: int | None = None

    def __post_init__(self):
        if not self.product_id:
            self.product_id = self.id


@record
class Price:
    """Цена of an offer."""

    price_type_id: str
    value: Decimal
    currency: str = ""
    unit: str = ""
    coefficient: Decimal = Decimal(1)
    presentation: str = ""


@record
class Offer:
    """
    Предложение. ``id`` is the full offer Ид; for a variant it is
    ``product#characteristic`` and ``product_id``/``characteristic_id`` are its halves.
    """

    id: str
    product_id: str
    characteristic_id: str | None = None
    name: str = ""
    article: str = ""
    barcode: str = ""
    #: ХарактеристикиТовара: (name, value) that distinguish this variant.
    characteristics: list[tuple[str, str]] = field(default_factory=list)
    #: ЗначенияСвойств of the offer: (property Ид, value).
    properties: list[tuple[str, str]] = field(default_factory=list)
    #: None: the file says nothing about prices of this offer.
    prices: list[Price] | None = None
    #: Количество (total); None when absent.
    quantity: Decimal | None = None
    #: Per warehouse: (warehouse Ид, quantity); None when the file carries none.
    stocks: list[tuple[str, Decimal]] | None = None
    deleted: bool = False
    version: str = ""
    #: CML2_ACTIVE of the offer (False: not for sale, hidden); None when not sent.
    active: bool | None = None
    sort: int | None = None
