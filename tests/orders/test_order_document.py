"""
The answer to ``type=sale&mode=query``: valid CommerceML (2.08 and 2.10 XSD), the
encodings 1C reads, Контейнер for 3.x, and every field 1C maps.
"""

import io
from decimal import Decimal

import pytest
import xmlschema
from lxml import etree
from oscar.test.factories import create_offer

from integration_1c.services.orders import build_query_answer

NS = {"c": "urn:1C.ru:commerceml_2"}

_schemas = {}


def schema(spec_dir, version):
    if version not in _schemas:
        _schemas[version] = xmlschema.XMLSchema(str(spec_dir / f"commerceml-{version}.xsd"))
    return _schemas[version]


def parse(data):
    return etree.fromstring(data.removeprefix(b"\xef\xbb\xbf"))


def texts(root, path, ns=NS):
    return [element.text for element in root.xpath(path, namespaces=ns)]


def requisites(element, ns=NS):
    return {
        value.findtext("c:Наименование", namespaces=ns): value.findtext("c:Значение", namespaces=ns)
        for value in element.xpath("c:ЗначенияРеквизитов/c:ЗначениеРеквизита", namespaces=ns)
    }


@pytest.fixture
def mixed_orders(db, shop_site, orders, customer):
    """A registered customer's order with delivery and a variant, and a guest's order."""
    variant = orders.variant("tee", "red-xl", "Футболка (красная, XL)")
    kettle = orders.product(code="kettle-1c-id", title="Чайник «Витязь» <1,7 л> & подставка")
    registered = orders.place(user=customer, lines=[(kettle, 2), (variant, 1)], shipping=Decimal("990.00"))
    guest = orders.place(guest_email="guest@example.kz", lines=[(orders.product(code="cup-1c"), 3)])
    return registered, guest


@pytest.mark.shared
@pytest.mark.parametrize("version", ["2.08", "2.10"])
def test_answer_validates_against_the_official_xsd(spec_dir, mixed_orders, make_session, version):
    data, charset = build_query_answer(make_session(schema_version=version))

    assert charset == "utf-8"
    assert data.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>')
    schema(spec_dir, version).validate(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")))
    root = parse(data)
    assert root.get("ВерсияСхемы") == version
    assert len(root.xpath("c:Документ", namespaces=NS)) == 2


@pytest.mark.shared
def test_discounted_order_validates_and_carries_the_discount(spec_dir, db, shop_site, orders, make_session):
    create_offer(name="Скидка 20%")
    order = orders.place(lines=[(orders.product(code="discounted", price=Decimal("1000.00")), 2)])
    data, _charset = build_query_answer(make_session())

    schema(spec_dir, "2.08").validate(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")))
    item = parse(data).xpath("c:Документ/c:Товары/c:Товар[c:Ид='discounted']", namespaces=NS)[0]
    assert item.findtext("c:ЦенаЗаЕдиницу", namespaces=NS) == "1000.00"
    assert item.findtext("c:Количество", namespaces=NS) == "2"
    assert item.findtext("c:Сумма", namespaces=NS) == "1600.00"
    assert item.findtext("c:Скидки/c:Скидка/c:Сумма", namespaces=NS) == "400.00"
    assert item.findtext("c:Скидки/c:Скидка/c:УчтеноВСумме", namespaces=NS) == "true"
    assert order.total_incl_tax == Decimal("1600.00")


def test_order_fields_1c_maps(mixed_orders, make_session):
    registered, guest = mixed_orders
    root = parse(build_query_answer(make_session())[0])
    doc = root.xpath(f"c:Документ[c:Ид='{registered.number}']", namespaces=NS)[0]

    assert doc.findtext("c:Номер", namespaces=NS) == registered.number
    assert doc.findtext("c:ХозОперация", namespaces=NS) == "Заказ товара"
    assert doc.findtext("c:Роль", namespaces=NS) == "Продавец"
    assert doc.findtext("c:Валюта", namespaces=NS) == "KZT"
    assert doc.findtext("c:Курс", namespaces=NS) == "1"
    assert Decimal(doc.findtext("c:Сумма", namespaces=NS)) == registered.total_incl_tax == Decimal("6490.00")
    assert doc.findtext("c:Комментарий", namespaces=NS) == "Позвонить за час"
    assert doc.findtext("c:Время", namespaces=NS)

    buyer = doc.xpath("c:Контрагенты/c:Контрагент", namespaces=NS)[0]
    assert buyer.findtext("c:Роль", namespaces=NS) == "Покупатель"
    assert buyer.findtext("c:Ид", namespaces=NS) == f"site-user-{registered.user_id}"
    assert buyer.findtext("c:ПолноеНаименование", namespaces=NS) == "Петров Иван"
    assert buyer.findtext("c:Фамилия", namespaces=NS) == "Петров"
    assert buyer.findtext("c:Имя", namespaces=NS) == "Иван"
    assert "Алматы" in buyer.findtext("c:АдресРегистрации/c:Представление", namespaces=NS)
    assert texts(buyer, "c:АдресРегистрации/c:АдресноеПоле[c:Тип='Город']/c:Значение") == ["Алматы"]
    assert texts(buyer, "c:Контакты/c:Контакт[c:Тип='Почта']/c:Значение") == ["ivan@example.kz"]
    assert texts(buyer, "c:Контакты/c:Контакт[c:Тип='Телефон мобильный']/c:Значение") == ["+77011234567"]

    items = {
        item.findtext("c:Ид", namespaces=NS): item for item in doc.xpath("c:Товары/c:Товар", namespaces=NS)
    }
    assert set(items) == {"kettle-1c-id", "tee#red-xl", "ORDER_DELIVERY"}
    kettle = items["kettle-1c-id"]
    assert kettle.findtext("c:Наименование", namespaces=NS) == "Чайник «Витязь» <1,7 л> & подставка"
    unit = kettle.find("c:БазоваяЕдиница", namespaces=NS)
    assert (
        unit.text,
        unit.get("Код"),
        unit.get("НаименованиеПолное"),
        unit.get("МеждународноеСокращение"),
    ) == (
        "шт",
        "796",
        "Штука",
        "PCE",
    )
    assert (
        kettle.findtext("c:ЦенаЗаЕдиницу", namespaces=NS),
        kettle.findtext("c:Количество", namespaces=NS),
    ) == (
        "1500.00",
        "2",
    )
    assert kettle.findtext("c:Сумма", namespaces=NS) == "3000.00"
    assert kettle.find("c:Скидки", namespaces=NS) is None
    assert requisites(kettle) == {"ВидНоменклатуры": "Товар", "ТипНоменклатуры": "Товар"}
    delivery = items["ORDER_DELIVERY"]
    assert requisites(delivery) == {"ВидНоменклатуры": "Услуга", "ТипНоменклатуры": "Услуга"}
    assert delivery.findtext("c:ЦенаЗаЕдиницу", namespaces=NS) == "990.00"

    values = requisites(doc)
    assert values["Статус заказа"] == "Новый"
    assert values["Заказ оплачен"] == "false"
    assert values["Отменен"] == "false"
    assert values["Финальный статус"] == "false"
    assert values["Доставка разрешена"] == "false"
    assert values["Сайт"] == "shop.example.kz"
    assert values["Дата изменения статуса"]
    assert values["Адрес доставки"].startswith("Иван Петров")

    guest_doc = root.xpath(f"c:Документ[c:Ид='{guest.number}']", namespaces=NS)[0]
    guest_buyer = guest_doc.xpath("c:Контрагенты/c:Контрагент", namespaces=NS)[0]
    assert guest_buyer.findtext("c:Ид", namespaces=NS).startswith("site-guest-")
    assert texts(guest_buyer, "c:Контакты/c:Контакт[c:Тип='Почта']/c:Значение") == ["guest@example.kz"]
    assert not guest_doc.xpath("c:Товары/c:Товар[c:Ид='ORDER_DELIVERY']", namespaces=NS)


def test_payment_method_comes_from_the_order_payment_source(db, shop_site, orders, make_session):
    from oscar.core.loading import get_model

    SourceType = get_model("payment", "SourceType")
    order = orders.place()
    source_type = SourceType.objects.create(name="Наличными при получении", code="cash-on-delivery")
    order.sources.create(source_type=source_type, amount_allocated=order.total_incl_tax)

    values = requisites(parse(build_query_answer(make_session())[0]).xpath("c:Документ", namespaces=NS)[0])

    assert values["Метод оплаты"] == "Наличными при получении"
    assert values["Метод оплаты ИД"] == "cash-on-delivery"


@pytest.mark.shared
def test_windows_1251_answer_declares_what_it_is(spec_dir, settings, db, shop_site, orders, make_session):
    settings.ONEC_ORDER_ENCODING = "windows-1251"
    orders.place(lines=[(orders.product(code="yen", title="Чайник ₸ — €"), 1)])

    data, charset = build_query_answer(make_session())

    assert charset == "windows-1251"
    assert data.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    assert "Чайник".encode("cp1251") in data  # real windows-1251 bytes, not UTF-8
    root = etree.fromstring(data)  # lxml honours the declaration
    assert texts(root, "c:Документ/c:Товары/c:Товар/c:Наименование") == ["Чайник ₸ — €"]
    schema(spec_dir, "2.08").validate(io.BytesIO(data))


def test_3x_clients_get_documents_in_containers(db, shop_site, orders, make_session):
    first, second = orders.place(), orders.place()

    data, _charset = build_query_answer(make_session(schema_version="3.1"))

    root = parse(data)
    ns = {"c": "urn:1C.ru:commerceml_3"}
    assert root.get("ВерсияСхемы") == "3.1"
    containers = root.xpath("c:Контейнер", namespaces=ns)
    assert [c.xpath("c:Документ/c:Ид/text()", namespaces=ns) for c in containers] == [
        [first.number],
        [second.number],
    ]
    assert not root.xpath("c:Документ", namespaces=ns)


def test_empty_answer_is_a_valid_document(db, make_session):
    data, _charset = build_query_answer(make_session())
    root = parse(data)
    assert root.tag == "{urn:1C.ru:commerceml_2}КоммерческаяИнформация"
    assert len(root) == 0
    assert root.get("ДатаФормирования")


def test_info_document_lists_statuses_payment_and_delivery(db):
    from oscar.core.loading import get_model

    from integration_1c.services.orders import info_document

    get_model("payment", "SourceType").objects.create(name="Счёт на оплату", code="invoice")
    data, charset = info_document()

    root = parse(data)
    assert charset == "utf-8"
    assert root.tag == "Справочник"
    assert root.xpath("Статусы/Элемент/Название/text()") == [
        "Новый",
        "Подтверждён",
        "Собирается",
        "Отправлен",
        "Готов к выдаче",
        "Доставлен",
        "Отменён",
    ]
    payment = [(e.findtext("Ид"), e.findtext("Название")) for e in root.xpath("ПлатежныеСистемы/Элемент")]
    assert ("cash-on-delivery", "Наличными при получении") in payment  # the checkout's own methods
    assert ("invoice", "Счёт на оплату") in payment
    assert root.xpath("СлужбыДоставки/Элемент/Ид/text()")  # the checkout's shipping methods


def test_guest_counterparty_id_is_stable_and_fits_the_schema(db, orders):
    from integration_1c.services.orders import guest_customer_id

    short = orders.place(guest_email="Guest@Example.kz")
    again = orders.place(guest_email="guest@example.kz")
    long_email = "a.very.long.mailbox.name.for.testing@subdomain.example.kz"
    long = orders.place(guest_email=long_email)

    assert guest_customer_id(short) == guest_customer_id(again) == "site-guest-guest@example.kz"
    assert len(guest_customer_id(long)) == 40 and guest_customer_id(long).startswith("site-guest-")
    assert guest_customer_id(long) != guest_customer_id(short)
