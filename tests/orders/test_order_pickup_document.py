"""
The 1C document of a pickup order: the point (a 1C warehouse) as the document's
Склады/Склад and as requisites 1C can reserve by, in 2.x and 3.x, valid against the XSDs;
the buyer's phone in E.164; no home address for the buyer.
"""

import io

import pytest
from oscar.core.loading import get_model

from integration_1c.services.orders import build_query_answer

from .test_order_document import NS, parse, requisites, schema

Order = get_model("order", "Order")
Partner = get_model("partner", "Partner")

POINT_ID = "6f0b7f1e-1c2d-11ef-8d5a-00155d010203"


@pytest.fixture
def pickup_order(db, shop_site, orders):
    point = Partner.objects.create(
        code=POINT_ID,
        name="Склад «Абая»",
        is_pickup_point=True,
        pickup_address="Алматы, пр. Абая, 150",
        pickup_hours="Пн–Сб 10:00–20:00",
    )
    order = orders.place(lines=[(orders.product(code="kettle-1c"), 1)])
    Order.objects.filter(pk=order.pk).update(
        pickup_point=point,
        pickup_point_code=point.code,
        pickup_point_name=point.name,
        pickup_point_address=point.pickup_address,
        pickup_point_hours=point.pickup_hours,
        shipping_method="Самовывоз",
        shipping_code="pickup",
    )
    order.shipping_address.line1 = point.pickup_address
    order.shipping_address.line4 = ""
    order.shipping_address.save()
    return Order.objects.get(pk=order.pk)


@pytest.mark.shared
@pytest.mark.parametrize("version", ["2.08", "2.10"])
def test_pickup_order_names_the_point_and_validates(spec_dir, pickup_order, make_session, version):
    data, _charset = build_query_answer(make_session(schema_version=version))

    schema(spec_dir, version).validate(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")))
    [document] = parse(data).xpath("c:Документ", namespaces=NS)
    [warehouse] = document.xpath("c:Склады/c:Склад", namespaces=NS)
    assert warehouse.findtext("c:Ид", namespaces=NS) == POINT_ID
    assert warehouse.findtext("c:Наименование", namespaces=NS) == "Склад «Абая»"
    assert warehouse.findtext("c:Адрес/c:Представление", namespaces=NS) == "Алматы, пр. Абая, 150"
    values = requisites(document)
    assert values["Склад"] == POINT_ID
    assert values["Пункт самовывоза Ид"] == POINT_ID
    assert values["Пункт самовывоза"] == "Склад «Абая» (Алматы, пр. Абая, 150)"
    assert values["Метод доставки ИД"] == "pickup"
    assert "Адрес доставки" not in values  # the point's address is not a delivery address
    buyer = document.xpath("c:Контрагенты/c:Контрагент", namespaces=NS)[0]
    assert not buyer.xpath("c:АдресРегистрации", namespaces=NS)
    phones = buyer.xpath("c:Контакты/c:Контакт[c:Тип='Телефон мобильный']/c:Значение/text()", namespaces=NS)
    assert phones == ["+77011234567"]


def test_3x_documents_name_the_point_in_their_container(pickup_order, make_session):
    data, _charset = build_query_answer(make_session(schema_version="3.1"))

    ns = {"c": "urn:1C.ru:commerceml_3"}
    [document] = parse(data).xpath("c:Контейнер/c:Документ", namespaces=ns)
    assert document.xpath("c:Склады/c:Склад/c:Ид/text()", namespaces=ns) == [POINT_ID]
    assert requisites(document, ns)["Склад"] == POINT_ID


@pytest.mark.shared
def test_courier_order_has_no_warehouse_and_keeps_the_address(spec_dir, db, shop_site, orders, make_session):
    orders.place()
    data, _charset = build_query_answer(make_session())

    schema(spec_dir, "2.08").validate(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")))
    [document] = parse(data).xpath("c:Документ", namespaces=NS)
    assert not document.xpath("c:Склады", namespaces=NS)
    assert "Склад" not in requisites(document)
    assert "пр. Абая, 10" in requisites(document)["Адрес доставки"]
