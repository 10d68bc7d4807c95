"""
CommerceML order documents, both ways, without the database.

* :func:`write_orders` turns plain :class:`OutgoingOrder` records into the answer to
  ``type=sale&mode=query``: one ``Документ`` per order (schema 2.05–2.10) or one
  ``Контейнер`` per order (3.x clients). The element order follows the official XSD
  (``Контрагент/Роль`` after ``Контакты``, a line's ``ЗначенияРеквизитов`` before its
  ``ЦенаЗаЕдиницу``), so the output validates against commerceml-2.08.xsd and 2.10.xsd;
  1C reads elements by name and does not mind.
* :func:`read_order_documents` streams the order documents 1C sends back
  (``mode=file`` for ``type=sale``) through :mod:`.xmlsafe`'s guarded parser and yields
  :class:`IncomingOrder` records: 1C's own number and date, posted / deletion mark /
  cancelled, payment, shipment, tracking number and status. Any namespace (none in 2.03/2.04, ``urn:1C.ru:commerceml_2`` or
  ``urn:1C.ru:commerceml_3``), documents directly under the root or in ``Контейнер``
  (where 3.x puts the payment and shipment documents of an order next to it).

The services (``integration_1c/services/orders.py``) map Oscar orders to these records
and the records onto Oscar orders.
"""

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from .reader import _release, _text
from .xmlsafe import GuardedStream, display_name, open_binary, parse_events

NS_2 = "urn:1C.ru:commerceml_2"
NS_3 = "urn:1C.ru:commerceml_3"
DEFAULT_SCHEMA_VERSION = "2.08"

#: The Ид 1C knows the shop's delivery line by (Bitrix's convention, kept by every 1C module).
DELIVERY_ITEM_ID = "ORDER_DELIVERY"
GOODS, SERVICE = "Товар", "Услуга"

ORDER_OPERATION = "Заказ товара"
PAYMENT_OPERATIONS = ("Выплата наличных денег", "Выплата безналичных денег")
SHIPMENT_OPERATIONS = ("Отпуск товара",)

# Limits of the XSD's simple types: ИдентификаторГлобальныйТип 40, Идентификатор80,
# НаименованиеТип/СтрокаТип 255, ЗначениеТип 1000, КомментарийТип 3000, ВалютаТип 3.
_ID_MAX, _ITEM_ID_MAX, _NAME_MAX, _VALUE_MAX, _COMMENT_MAX = 40, 80, 255, 1000, 3000

# Characters XML 1.0 cannot carry at all (lxml refuses them); user input may hold them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CENT = Decimal("0.01")


# --- Records ---------------------------------------------------------------------


@dataclass(slots=True)
class Customer:
    """The buyer (Контрагент with Роль «Покупатель»)."""

    id: str
    full_name: str
    last_name: str = ""
    first_name: str = ""
    #: АдресРегистрации/Представление and its АдресноеПоле (Тип, Значение) pairs; Тип is
    #: one of the XSD's АдресТип values ("Почтовый индекс", "Страна", "Город", "Улица", …).
    address: str = ""
    address_fields: list[tuple[str, str]] = field(default_factory=list)
    email: str = ""
    phone: str = ""


@dataclass(slots=True)
class OrderItem:
    """
    One Товар of the order. ``unit_price`` is before discounts and ``amount`` after them;
    ``discount`` (their difference) goes out as a Скидка with УчтеноВСумме=true, so
    ЦенаЗаЕдиницу × Количество − Скидка = Сумма, which is how 1C reads a line.
    """

    id: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    discount: Decimal = Decimal(0)
    discount_name: str = "Скидка"
    article: str = ""
    #: ВидНоменклатуры / ТипНоменклатуры: GOODS for products, SERVICE for delivery.
    kind: str = GOODS


@dataclass(slots=True)
class Warehouse:
    """
    The 1C warehouse (Склад) an order is collected at: a pickup point. ``id`` is the
    warehouse Ид 1C sent with the stock, so 1C finds its own warehouse and reserves there.
    """

    id: str
    name: str
    address: str = ""


@dataclass(slots=True)
class OutgoingOrder:
    """An order as the site sends it to 1C. ``placed_at`` is in the shop's local time."""

    id: str
    number: str
    placed_at: datetime
    currency: str
    total: Decimal
    customer: Customer
    items: list[OrderItem]
    comment: str = ""
    #: Document-level ЗначенияРеквизитов, in order: (Наименование, Значение).
    requisites: list[tuple[str, str]] = field(default_factory=list)
    #: The pickup point (Склады/Склад of the document), None for a delivered order.
    pickup_point: Warehouse | None = None


@dataclass(slots=True)
class IncomingOrder:
    """
    What a 1C order document says about a site order. Fields the document did not carry
    are None (or empty), so that applying it never erases what 1C did not mention.
    """

    id: str
    number: str = ""
    date: datetime | None = None
    total: Decimal | None = None
    onec_number: str = ""
    onec_date: datetime | None = None
    posted: bool | None = None
    deletion_mark: bool | None = None
    cancelled: bool | None = None
    paid: bool | None = None
    paid_at: datetime | None = None
    payment_number: str = ""
    shipped: bool | None = None
    shipped_at: datetime | None = None
    shipment_number: str = ""
    tracking_number: str = ""
    status_id: str = ""
    status_name: str = ""
    #: Every ЗначениеРеквизита of the order document, as sent.
    requisites: dict[str, str] = field(default_factory=dict)

    def fingerprint(self):
        """A hash of what the document says, to recognise the same document sent again."""
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


# --- Writer ----------------------------------------------------------------------


def answer_schema_version(client_version):
    """
    The ВерсияСхемы to answer a client with: 3.x clients get "3.1" (Контейнер-wrapped
    documents), a 2.05–2.10 client its own version, anyone else 2.08.
    """
    version = (client_version or "").strip()
    if version.startswith("3"):
        return "3.1"
    if re.fullmatch(r"2\.(0[5-9]|10)", version):
        return version
    return DEFAULT_SCHEMA_VERSION


def write_orders(orders, *, generated_at, schema_version=DEFAULT_SCHEMA_VERSION, encoding="utf-8"):
    """
    Serialise ``orders`` (iterable of :class:`OutgoingOrder`) as one CommerceML document.

    Returns ``(bytes, charset)``. UTF-8 output starts with a byte order mark (1C's XML
    reader expects it); windows-1251 output carries characters the code page lacks as
    character references. The XML declaration always names the real encoding.
    """
    charset = _charset(encoding)
    containers = schema_version.startswith("3")
    ns = NS_3 if containers else NS_2
    root = etree.Element(_q(ns, "КоммерческаяИнформация"), nsmap={None: ns})
    root.set("ВерсияСхемы", schema_version)
    root.set("ДатаФормирования", _datetime(generated_at))
    for order in orders:
        parent = etree.SubElement(root, _q(ns, "Контейнер")) if containers else root
        _write_document(parent, ns, order)
    body = etree.tostring(root, encoding=charset, xml_declaration=False, pretty_print=True)
    declaration = f'<?xml version="1.0" encoding="{charset}"?>\n'.encode("ascii")
    bom = b"\xef\xbb\xbf" if charset == "UTF-8" else b""
    return bom + declaration + body, charset.lower()


#: 1C-Bitrix's spelling: a Latin "C" followed by Cyrillic "татусы".
BITRIX_STATUSES_TAG = "C\u0442\u0430\u0442\u0443\u0441\u044b"


def write_reference(statuses, payment_methods, delivery_methods, *, encoding="utf-8"):
    """
    The shop's reference lists for ``type=sale&mode=info``, in the shape the 1C-Bitrix
    module reads: ``Справочник`` with the statuses, ``ПлатежныеСистемы`` and
    ``СлужбыДоставки``, each a list of ``Элемент`` (``Ид``, ``Название``). Each argument
    is an iterable of (id, name) pairs. Returns ``(bytes, charset)``.

    1C-Bitrix spells its statuses element with a Latin «C» (``Cтатусы``) and clients
    written against it look for that spelling; others look for ``Статусы``. The list is
    written under both names, so both kinds of client read it.
    """
    charset = _charset(encoding)
    statuses = list(statuses)
    root = etree.Element("Справочник")
    for tag, items in (
        (BITRIX_STATUSES_TAG, statuses),
        ("Статусы", statuses),
        ("ПлатежныеСистемы", payment_methods),
        ("СлужбыДоставки", delivery_methods),
    ):
        group = etree.SubElement(root, tag)
        for item_id, name in items:
            element = etree.SubElement(group, "Элемент")
            _sub(element, "Ид", item_id, _ID_MAX)
            _sub(element, "Название", name, _NAME_MAX)
    body = etree.tostring(root, encoding=charset, xml_declaration=False, pretty_print=True)
    declaration = f'<?xml version="1.0" encoding="{charset}"?>\n'.encode("ascii")
    bom = b"\xef\xbb\xbf" if charset == "UTF-8" else b""
    return bom + declaration + body, charset.lower()


def _charset(encoding):
    normalized = (encoding or "utf-8").strip().lower().replace("_", "-")
    if normalized in ("utf-8", "utf8"):
        return "UTF-8"
    if normalized in ("windows-1251", "cp1251", "win-1251", "1251"):
        return "windows-1251"
    raise ValueError(f"1C reads order documents in UTF-8 or windows-1251, not {encoding!r}")


def _write_document(parent, ns, order):
    doc = etree.SubElement(parent, _q(ns, "Документ"))
    _sub(doc, _q(ns, "Ид"), order.id, _ID_MAX)
    _sub(doc, _q(ns, "Номер"), order.number, _NAME_MAX)
    _sub(doc, _q(ns, "Дата"), order.placed_at.date().isoformat())
    _sub(doc, _q(ns, "ХозОперация"), ORDER_OPERATION)
    _sub(doc, _q(ns, "Роль"), "Продавец")
    _sub(doc, _q(ns, "Валюта"), (order.currency or "")[:3])
    _sub(doc, _q(ns, "Курс"), "1")
    _sub(doc, _q(ns, "Сумма"), _money(order.total))
    _write_customer(etree.SubElement(doc, _q(ns, "Контрагенты")), ns, order.customer)
    _sub(doc, _q(ns, "Время"), order.placed_at.strftime("%H:%M:%S"))
    _sub(doc, _q(ns, "Комментарий"), order.comment, _COMMENT_MAX)
    if order.pickup_point is not None:
        _write_warehouse(etree.SubElement(doc, _q(ns, "Склады")), ns, order.pickup_point)
    if order.items:
        items = etree.SubElement(doc, _q(ns, "Товары"))
        for item in order.items:
            _write_item(items, ns, item)
    _write_requisites(doc, ns, order.requisites)


def _write_customer(parent, ns, customer):
    element = etree.SubElement(parent, _q(ns, "Контрагент"))
    _sub(element, _q(ns, "Ид"), customer.id, _ID_MAX)
    _sub(element, _q(ns, "Наименование"), customer.full_name, _NAME_MAX)
    _sub(element, _q(ns, "ПолноеНаименование"), customer.full_name, _NAME_MAX)
    if customer.last_name:
        _sub(element, _q(ns, "Фамилия"), customer.last_name, _NAME_MAX)
    if customer.first_name:
        _sub(element, _q(ns, "Имя"), customer.first_name, _NAME_MAX)
    if customer.address or customer.address_fields:
        address = etree.SubElement(element, _q(ns, "АдресРегистрации"))
        _sub(address, _q(ns, "Представление"), customer.address, _NAME_MAX)
        for kind, value in customer.address_fields[:10]:
            if value:
                address_field = etree.SubElement(address, _q(ns, "АдресноеПоле"))
                _sub(address_field, _q(ns, "Тип"), kind)
                _sub(address_field, _q(ns, "Значение"), value, _NAME_MAX)
    contacts = [("Почта", customer.email), ("Телефон мобильный", customer.phone)]
    contacts = [(kind, value) for kind, value in contacts if value]
    if contacts:
        contacts_element = etree.SubElement(element, _q(ns, "Контакты"))
        for kind, value in contacts:
            contact = etree.SubElement(contacts_element, _q(ns, "Контакт"))
            _sub(contact, _q(ns, "Тип"), kind)
            _sub(contact, _q(ns, "Значение"), value, _NAME_MAX)
    _sub(element, _q(ns, "Роль"), "Покупатель")


def _write_warehouse(parent, ns, warehouse):
    """
    ``Склады/Склад`` of the document — the XSD's «склад, на который осуществляется
    доставка или с которого производится отгрузка» — with the warehouse's Ид and name,
    and the address shoppers were given. The same element in 2.x and 3.x documents.
    """
    element = etree.SubElement(parent, _q(ns, "Склад"))
    _sub(element, _q(ns, "Ид"), warehouse.id, _ID_MAX)
    _sub(element, _q(ns, "Наименование"), warehouse.name, _NAME_MAX)
    if warehouse.address:
        address = etree.SubElement(element, _q(ns, "Адрес"))
        _sub(address, _q(ns, "Представление"), warehouse.address, _NAME_MAX)


def pickup_requisites(warehouse):
    """
    The document requisites that name the pickup point, for 1C configurations that read
    requisites rather than ``Склады`` (exchange handlers written for Bitrix look up
    «Склад» by Ид): ``[(Наименование, Значение)]``, empty without a point.
    """
    if warehouse is None:
        return []
    point = warehouse.name if not warehouse.address else f"{warehouse.name} ({warehouse.address})"
    return [
        ("Склад", warehouse.id),
        ("Склад наименование", warehouse.name),
        ("Пункт самовывоза", point),
        ("Пункт самовывоза Ид", warehouse.id),
    ]


def _write_item(parent, ns, item):
    element = etree.SubElement(parent, _q(ns, "Товар"))
    _sub(element, _q(ns, "Ид"), item.id, _ITEM_ID_MAX)
    if item.article:
        _sub(element, _q(ns, "Артикул"), item.article, _NAME_MAX)
    _sub(element, _q(ns, "Наименование"), item.name, _NAME_MAX)
    unit = _sub(element, _q(ns, "БазоваяЕдиница"), "шт")
    unit.set("Код", "796")
    unit.set("НаименованиеПолное", "Штука")
    unit.set("МеждународноеСокращение", "PCE")
    _write_requisites(element, ns, [("ВидНоменклатуры", item.kind), ("ТипНоменклатуры", item.kind)])
    _sub(element, _q(ns, "ЦенаЗаЕдиницу"), _money(item.unit_price))
    _sub(element, _q(ns, "Количество"), _quantity(item.quantity))
    _sub(element, _q(ns, "Сумма"), _money(item.amount))
    if item.discount and item.discount > 0:
        discounts = etree.SubElement(element, _q(ns, "Скидки"))
        discount = etree.SubElement(discounts, _q(ns, "Скидка"))
        _sub(discount, _q(ns, "Наименование"), item.discount_name, _NAME_MAX)
        _sub(discount, _q(ns, "Сумма"), _money(item.discount))
        _sub(discount, _q(ns, "УчтеноВСумме"), "true")


def _write_requisites(parent, ns, requisites):
    requisites = [(name, value) for name, value in requisites if name]
    if not requisites:
        return
    group = etree.SubElement(parent, _q(ns, "ЗначенияРеквизитов"))
    for name, value in requisites:
        requisite = etree.SubElement(group, _q(ns, "ЗначениеРеквизита"))
        _sub(requisite, _q(ns, "Наименование"), name, _NAME_MAX)
        _sub(requisite, _q(ns, "Значение"), value, _VALUE_MAX)


def _q(ns, tag):
    return f"{{{ns}}}{tag}"


def _sub(parent, tag, text, limit=None):
    element = etree.SubElement(parent, tag)
    text = _XML_INVALID.sub("", "" if text is None else str(text))
    element.text = text[:limit] if limit else text
    return element


def _money(value):
    return f"{Decimal(value or 0).quantize(_CENT):f}"


def _quantity(value):
    value = Decimal(value or 0)
    return f"{value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize():f}"


def _datetime(value):
    return value.replace(tzinfo=None, microsecond=0).isoformat()


def format_datetime(value):
    """Dates in ЗначенияРеквизитов, as 1C's own modules write them: 2024-05-01 14:03:00."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def format_bool(value):
    return "true" if value else "false"


# --- Reader ----------------------------------------------------------------------

# Requisite names 1C modules use, normalised (lower case, ё -> е, no spaces/punctuation).
_REQ_ONEC_NUMBER = ("номерпо1с", "номер1с")
_REQ_ONEC_DATE = ("датапо1с", "дата1с")
_REQ_POSTED = ("проведен",)
_REQ_DELETION = ("пометкаудаления",)
_REQ_CANCELLED = ("отменен",)
_REQ_PAID = ("оплачен", "заказоплачен")
_REQ_PAID_AT = ("датаоплатыпо1с", "датаоплаты")
_REQ_PAYMENT_NUMBER = ("номероплатыпо1с", "номерплатежногодокумента", "номероплаты")
_REQ_SHIPPED = ("отгружен",)
_REQ_SHIPPED_AT = ("датаотгрузкипо1с", "датаотгрузки")
_REQ_SHIPMENT_NUMBER = ("номеротгрузкипо1с", "номеротгрузки")
_REQ_TRACKING = (
    "номеротслеживания",
    "трекномер",
    "трекинг",
    "трекингномер",
    "идентификаторотправления",
    "номеротправления",
    "почтовыйидентификатор",
    "trackingnumber",
)
_REQ_STATUS_ID = ("статусазаказаид", "статусзаказаид", "идстатусазаказа")
_REQ_STATUS = ("статусзаказа",)

_TRUE = {"true", "1", "да", "yes", "истина"}
_FALSE = {"false", "0", "нет", "no", "ложь"}
_DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
_STATUS_WITH_ID = re.compile(r"^\s*\[([^\]]+)\]\s*(.*)$")


def read_order_documents(fileobj, name=""):
    """
    Yield an :class:`IncomingOrder` for every order document in ``fileobj`` (a path or
    a binary file), streaming: memory stays flat whatever the file size. The parser is
    :mod:`.xmlsafe`'s: no DTD, no entities, no network, readable errors
    (:class:`~.xmlsafe.CommerceMLError`) that name ``name``.
    """
    label = display_name(fileobj, name)
    with open_binary(fileobj) as raw:
        stream = GuardedStream(raw, label).inspect()
        for event, element in parse_events(stream, label):
            if event != "end":
                continue
            local = _local(element)
            if local not in ("Документ", "Контейнер"):
                continue
            parent = element.getparent()
            parent_name = _local(parent) if parent is not None else ""
            if local == "Документ" and parent_name == "КоммерческаяИнформация":
                record = _order_from_documents([element])
            elif local == "Контейнер":
                record = _order_from_documents([child for child in element if _local(child) == "Документ"])
            else:
                continue  # a Документ inside a Контейнер: read with its container
            _release(element)
            if record is not None:
                yield record


def _order_from_documents(documents):
    """The order document among ``documents``, completed by its payment/shipment documents."""
    order_doc, related = None, []
    for document in documents:
        operation = _text(_child(document, "ХозОперация"))
        if order_doc is None and (not operation or operation == ORDER_OPERATION):
            order_doc = document
        else:
            related.append((operation, document))
    if order_doc is None:
        return None
    record = _read_order(order_doc)
    for operation, document in related:
        _merge_related(record, operation, document)
    return record


def _read_order(document):
    requisites = _requisites(document)
    lookup = _Lookup(requisites)
    status_id = lookup.text(_REQ_STATUS_ID)
    status_name = lookup.text(_REQ_STATUS)
    match = _STATUS_WITH_ID.match(status_name)
    if match:  # Bitrix style "[F] Доставлен"
        status_id = status_id or match.group(1).strip()
        status_name = match.group(2).strip()
    record = IncomingOrder(
        id=_text(_child(document, "Ид")),
        number=_text(_child(document, "Номер")),
        date=_combine(_child(document, "Дата"), _child(document, "Время")),
        total=_decimal(_text(_child(document, "Сумма"))),
        onec_number=_text(_child(document, "Номер1С")) or lookup.text(_REQ_ONEC_NUMBER),
        onec_date=_combine(_child(document, "Дата1С"), _child(document, "Время1С"))
        or parse_date(lookup.text(_REQ_ONEC_DATE)),
        posted=_first_bool(_text(_child(document, "Проведен")), lookup.text(_REQ_POSTED)),
        deletion_mark=_first_bool(_text(_child(document, "ПометкаУдаления")), lookup.text(_REQ_DELETION)),
        cancelled=_first_bool(_text(_child(document, "Отменен")), lookup.text(_REQ_CANCELLED)),
        paid=parse_bool(lookup.text(_REQ_PAID)),
        paid_at=parse_date(lookup.text(_REQ_PAID_AT)),
        payment_number=lookup.text(_REQ_PAYMENT_NUMBER),
        shipped=parse_bool(lookup.text(_REQ_SHIPPED)),
        shipped_at=parse_date(lookup.text(_REQ_SHIPPED_AT)),
        shipment_number=lookup.text(_REQ_SHIPMENT_NUMBER),
        tracking_number=lookup.text(_REQ_TRACKING),
        status_id=status_id,
        status_name=status_name,
        requisites=dict(requisites),
    )
    if record.paid_at and record.paid is None:
        record.paid = True
    if record.shipped_at and record.shipped is None:
        record.shipped = True
    return record


def _merge_related(record, operation, document):
    """
    A payment or shipment document 1C put in the order's Контейнер (3.x): posted and
    not cancelled means the order is paid / shipped; its number and date are 1C's.
    """
    lookup = _Lookup(_requisites(document))
    posted = _first_bool(_text(_child(document, "Проведен")), lookup.text(_REQ_POSTED))
    voided = bool(
        _first_bool(_text(_child(document, "ПометкаУдаления")), lookup.text(_REQ_DELETION))
        or _first_bool(_text(_child(document, "Отменен")), lookup.text(_REQ_CANCELLED))
    )
    number = _text(_child(document, "Номер1С")) or _text(_child(document, "Номер"))
    date = _combine(_child(document, "Дата1С"), _child(document, "Время1С")) or _combine(
        _child(document, "Дата"), _child(document, "Время")
    )
    if operation in PAYMENT_OPERATIONS:
        done = parse_bool(lookup.text(_REQ_PAID))
        record.paid = (done if done is not None else bool(posted)) and not voided
        if record.paid:
            record.paid_at = parse_date(lookup.text(_REQ_PAID_AT)) or date or record.paid_at
            record.payment_number = lookup.text(_REQ_PAYMENT_NUMBER) or number or record.payment_number
    elif operation in SHIPMENT_OPERATIONS:
        done = parse_bool(lookup.text(_REQ_SHIPPED))
        record.shipped = (done if done is not None else bool(posted)) and not voided
        if record.shipped:
            record.shipped_at = parse_date(lookup.text(_REQ_SHIPPED_AT)) or date or record.shipped_at
            record.shipment_number = lookup.text(_REQ_SHIPMENT_NUMBER) or number or record.shipment_number
        record.tracking_number = lookup.text(_REQ_TRACKING) or record.tracking_number


class _Lookup:
    """Requisites by normalised name: 1C configurations spell them in many ways."""

    def __init__(self, requisites):
        self.values = {}
        for name, value in requisites:
            self.values.setdefault(_normalize(name), value)

    def text(self, names):
        for name in names:
            value = self.values.get(name)
            if value:
                return value
        return ""


def _requisites(document):
    group = _child(document, "ЗначенияРеквизитов")
    if group is None:
        return []
    pairs = []
    for requisite in group:
        if _local(requisite) != "ЗначениеРеквизита":
            continue
        name = _text(_child(requisite, "Наименование"))
        if name:
            pairs.append((name, _text(_child(requisite, "Значение"))))
    return pairs


def _normalize(name):
    return re.sub(r"[\s_\-.,:]+", "", name.lower().replace("ё", "е"))


def parse_bool(value):
    value = (value or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def _first_bool(*values):
    for value in values:
        parsed = parse_bool(value)
        if parsed is not None:
            return parsed
    return None


def parse_date(value):
    """A naive datetime from the formats 1C writes; None for empty and 0001-01-01."""
    value = (value or "").strip()
    if not value:
        return None
    value = re.sub(r"(\.\d+)?([+-]\d\d:?\d\d|Z)?$", "", value) if "T" in value else value
    for date_format in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, date_format)
        except ValueError:
            continue
        return None if parsed.year <= 1 else parsed
    return None


def _combine(date_element, time_element):
    date_text = _text(date_element)
    if not date_text:
        return None
    time_text = _text(time_element)
    if time_text and "T" not in date_text and " " not in date_text:
        return parse_date(f"{date_text} {time_text}") or parse_date(date_text)
    return parse_date(date_text)


def _decimal(value):
    try:
        return Decimal(value.replace(",", ".").replace("\xa0", "").replace(" ", "")) if value else None
    except InvalidOperation:
        return None


def _local(element):
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(element, name):
    for child in element:
        if _local(child) == name:
            return child
    return None
