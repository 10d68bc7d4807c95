"""The CommerceML reader on documents written here: every variant of the format it must accept."""

from datetime import datetime
from decimal import Decimal

import pytest

from integration_1c.commerceml import CommerceMLError, iter_records, read_document, records
from integration_1c.commerceml.reader import parse_decimal, split_offer_id

from .builders import CLASSIFIER, NAMESPACES, OFFERS, PRODUCTS, cml, cml_text, stream


def by_type(stream_of_records, record_type):
    return [record for record in stream_of_records if isinstance(record, record_type)]


@pytest.mark.parametrize("ns", list(NAMESPACES.values()), ids=list(NAMESPACES))
def test_every_namespace_reads_the_same(ns):
    catalogue = list(iter_records(stream(cml(CLASSIFIER + PRODUCTS, ns=ns))))
    offers = list(iter_records(stream(cml(OFFERS, ns=ns))))
    assert catalogue[0].kind == records.CATALOGUE
    assert offers[0].kind == records.OFFERS
    assert [type(record).__name__ for record in catalogue] == (
        ["Document"] + ["Group"] * 5 + ["Property"] * 6 + ["Product"] * 5
    )
    assert [type(record).__name__ for record in offers] == (
        ["Document"] + ["PriceType"] * 2 + ["Warehouse"] * 2 + ["Offer"] * 5
    )
    reference = list(iter_records(stream(cml(CLASSIFIER + PRODUCTS + "", ns=None))))
    assert catalogue[1:] == reference[1:]


def test_document_header():
    document = read_document(stream(cml(CLASSIFIER + PRODUCTS, version="2.08")))
    assert document == records.Document(
        kind=records.CATALOGUE,
        schema_version="2.08",
        generated_at=datetime(2024, 5, 1, 10, 20, 30),
        changes_only=False,
        catalogue_id="cat-1",
        classifier_id="cls-1",
        name="Основной каталог",
    )
    offers = read_document(stream(cml(OFFERS)))
    assert (offers.kind, offers.changes_only, offers.catalogue_id, offers.classifier_id) == (
        records.OFFERS,
        True,
        "cat-1",
        "cls-1",
    )


def test_changes_only_as_a_child_element_and_absent():
    child = PRODUCTS.replace(' СодержитТолькоИзменения="false"', "").replace(
        "<Ид>cat-1</Ид>", "<Ид>cat-1</Ид><СодержитТолькоИзменения>true</СодержитТолькоИзменения>"
    )
    assert read_document(stream(cml(child))).changes_only is True
    absent = PRODUCTS.replace(' СодержитТолькоИзменения="false"', "")
    assert read_document(stream(cml(absent))).changes_only is None


def test_groups_nested_parents_first_with_deletions_and_positions():
    groups = by_type(iter_records(stream(cml(CLASSIFIER))), records.Group)
    assert groups == [
        records.Group(id="g-1", name="Одежда", parent_id=None, deleted=False, position=0),
        records.Group(id="g-1-1", name="Детская", parent_id="g-1", deleted=False, position=0),
        records.Group(id="g-1-1-1", name="Шапки", parent_id="g-1-1", deleted=False, position=0),
        records.Group(id="g-1-2", name="Взрослая", parent_id="g-1", deleted=True, position=1),
        records.Group(id="g-2", name="Архив", parent_id=None, deleted=True, position=1),
    ]


def test_deep_group_tree_streams_parents_first():
    depth = 300
    body = "<Классификатор><Ид>c</Ид><Наименование>c</Наименование><Группы>"
    body += "".join(
        f"<Группа><Ид>g{level}</Ид><Наименование>Уровень {level}</Наименование><Группы>"
        for level in range(depth)
    )
    body += "</Группы></Группа>" * depth + "</Группы></Классификатор>"
    groups = by_type(iter_records(stream(cml(body))), records.Group)
    assert [group.id for group in groups] == [f"g{level}" for level in range(depth)]
    assert [group.parent_id for group in groups] == [None] + [f"g{level}" for level in range(depth - 1)]


def test_properties_types_options_and_usage():
    properties = {
        record.id: record for record in by_type(iter_records(stream(cml(CLASSIFIER))), records.Property)
    }
    assert properties["p-colour"].value_type == "reference"
    assert properties["p-colour"].options == [("v-red", "Красный"), ("v-blue", "Синий")]
    assert properties["p-colour"].for_offers is False
    assert properties["p-weight"].value_type == "number"
    assert properties["p-new"].value_type == "boolean"
    assert properties["p-date"].value_type == "date"
    assert properties["p-warranty"].value_type == "string"
    assert properties["p-warranty"].for_offers is True
    assert properties["p-old"].name == "Старое"  # 2.03–2.05 СвойствоНоменклатуры


def test_classifier_alone_and_as_a_fragment():
    alone = list(iter_records(stream(cml(CLASSIFIER))))
    assert alone[0].kind == records.CLASSIFIER
    assert alone[0].classifier_id == "cls-1"
    fragment = ('<?xml version="1.0" encoding="UTF-8"?>' + CLASSIFIER).encode()
    records_of_fragment = list(iter_records(stream(fragment)))
    assert records_of_fragment[0].kind == records.CLASSIFIER
    assert records_of_fragment[1:] == alone[1:]


def test_catalogue_header_without_products_is_a_classifier():
    """1C-Bitrix split packages and 3.1 classifier.xml carry a Каталог header but no Товары."""
    header = '<Каталог СодержитТолькоИзменения="false"><Ид>cat-1</Ид><Наименование>К</Наименование></Каталог>'
    document = read_document(stream(cml(CLASSIFIER + header)))
    assert document.kind == records.CLASSIFIER
    empty_products = header.replace("</Каталог>", "<Товары/></Каталог>")
    assert read_document(stream(cml(CLASSIFIER + empty_products))).kind == records.CATALOGUE


def test_product_fields():
    products = {
        record.id: record
        for record in by_type(iter_records(stream(cml(CLASSIFIER + PRODUCTS))), records.Product)
    }
    product = products["prod-1"]
    assert product.name == "Шапка зимняя"
    assert product.article == "ART-1"
    assert product.barcode == "4600000000017"
    assert product.description == "Тёплая <b>шапка</b>"
    assert (product.unit_code, product.unit_name) == ("796", "шт")
    assert product.group_ids == ["g-1-1-1", "g-1-2"]
    assert product.images == [
        records.Image(path="import_files/5c/5c1_a.jpg"),
        records.Image(path="import_files/5c/5c1_b.jpg", caption="Вид сбоку"),
    ]
    assert product.manufacturer == "Фабрика"
    assert product.properties == [("p-colour", "v-red"), ("p-colour", "v-blue"), ("p-weight", "0,25")]
    assert product.tax_rates == [("НДС", "12")]
    assert product.characteristics == [("Размер", "54")]
    assert product.requisites["Полное наименование"] == "Шапка зимняя детская"
    assert product.requisites["ВидНоменклатуры"] == "Товар"
    assert product.version == "AAAAAQ=="
    assert product.deleted is False
    # A code with a full name but no short name gets the ОКЕИ short name.
    assert (products["prod-5"].unit_code, products["prod-5"].unit_name) == ("166", "кг")


def test_three_ways_of_deleting_a_product():
    products = {record.id: record for record in by_type(iter_records(stream(cml(PRODUCTS))), records.Product)}
    assert {product_id for product_id, product in products.items() if product.deleted} == {
        "prod-2",
        "prod-3",
        "prod-4",
    }


def test_units_of_schema_31_resolve_product_units():
    classifier = """<Классификатор><Ид>c</Ид><Наименование>c</Наименование><ЕдиницыИзмерения>
        <ЕдиницаИзмерения><Ид>2009</Ид><НаименованиеКраткое>шт</НаименованиеКраткое><Код>796</Код>
        <НаименованиеПолное>Штука</НаименованиеПолное><МеждународноеСокращение>PCE</МеждународноеСокращение></ЕдиницаИзмерения>
        </ЕдиницыИзмерения></Классификатор>"""
    catalogue = """<Каталог><Ид>c</Ид><Наименование>c</Наименование><Товары>
        <Товар><Ид>p</Ид><Наименование>p</Наименование><БазоваяЕдиница>2009</БазоваяЕдиница></Товар>
        </Товары></Каталог>"""
    result = list(iter_records(stream(cml(classifier + catalogue, version="3.1"))))
    assert by_type(result, records.Unit) == [
        records.Unit(id="2009", code="796", name="шт", full_name="Штука", international="PCE")
    ]
    product = by_type(result, records.Product)[0]
    assert (product.unit_code, product.unit_name) == ("796", "шт")
    # Without the classifier in the same file the reference is kept for the importer to resolve.
    alone = by_type(iter_records(stream(cml(catalogue, version="3.1"))), records.Product)[0]
    assert (alone.unit_code, alone.unit_name) == ("2009", "")


def test_price_types_and_warehouses():
    result = list(iter_records(stream(cml(OFFERS))))
    assert by_type(result, records.PriceType) == [
        records.PriceType(id="pt-retail", name="Розничная", currency="KZT", tax_included=True),
        records.PriceType(id="pt-wholesale", name="Оптовая", currency="KZT", tax_included=None),
    ]
    assert by_type(result, records.Warehouse) == [
        records.Warehouse(id="wh-1", name="Главный", address="Алматы"),
        records.Warehouse(id="wh-2", name="Магазин", address=""),
    ]


def test_offers_with_both_stock_styles_prices_and_absences():
    offers = {record.id: record for record in by_type(iter_records(stream(cml(OFFERS))), records.Offer)}
    assert list(offers) == ["prod-1#char-1", "prod-5", "prod-6", "prod-7", "prod-8"]

    variant = offers["prod-1#char-1"]
    assert (variant.product_id, variant.characteristic_id) == ("prod-1", "char-1")
    assert variant.characteristics == [("Размер", "54")]
    assert variant.article == "ART-1"
    assert variant.prices == [
        records.Price(
            price_type_id="pt-retail",
            value=Decimal("1719.50"),
            currency="KZT",
            unit="шт",
            coefficient=Decimal(1),
            presentation="1 719,50 KZT за шт",
        ),
        records.Price(price_type_id="pt-wholesale", value=Decimal(1500)),
    ]
    assert variant.quantity == Decimal(7)
    assert variant.stocks == [("wh-1", Decimal(5)), ("wh-2", Decimal(2))]  # <Склад ИдСклада=…/>

    plain = offers["prod-5"]  # "prod-5#": an empty characteristic is no characteristic
    assert (plain.product_id, plain.characteristic_id) == ("prod-5", None)
    assert plain.stocks == [("wh-1", Decimal("1.5")), ("wh-2", Decimal(3))]  # <Остатки>
    assert plain.quantity is None
    assert plain.prices[0].value == Decimal("10.5")

    total_only = offers["prod-6"]
    assert total_only.prices is None  # a rests-only offer says nothing about prices
    assert total_only.quantity == Decimal(12)
    assert total_only.stocks is None

    name_only = offers["prod-7"]
    assert (name_only.prices, name_only.quantity, name_only.stocks) == (None, None, None)

    deleted = offers["prod-8"]
    assert deleted.deleted is True
    assert deleted.prices == []  # an empty <Цены/> is present: no prices at all


def test_rests_only_file_gives_no_prices():
    body = """<ПакетПредложений СодержитТолькоИзменения="true"><Ид>c#</Ид><Наименование>c</Наименование>
      <ИдКаталога>c</ИдКаталога><Предложения>
      <Предложение><Ид>a</Ид><Остатки><Остаток><Склад><Ид>wh</Ид><Количество>4</Количество></Склад></Остаток></Остатки></Предложение>
      </Предложения></ПакетПредложений>"""
    offer = by_type(
        iter_records(stream(cml(body, ns=NAMESPACES["commerceml_3"], version="3.1"))), records.Offer
    )[0]
    assert offer.prices is None
    assert offer.stocks == [("wh", Decimal(4))]


def test_offers_changes_package():
    body = """<ИзмененияПакетаПредложений><Ид>pkg</Ид><ИдКаталога>cat-1</ИдКаталога><Предложения>
      <Предложение><Ид>prod-1</Ид><ИдХарактеристики>char-2</ИдХарактеристики>
        <Склады ИдСклада="wh-1" КоличествоНаСкладе="3"/><Склады ИдСклада="wh-2" КоличествоНаСкладе="0"/>
        <Цены><Цена><ИдТипаЦены>pt-retail</ИдТипаЦены><ЦенаЗаЕдиницу>99,90</ЦенаЗаЕдиницу></Цена></Цены>
        <Количество>3</Количество></Предложение>
      </Предложения></ИзмененияПакетаПредложений>"""
    result = list(iter_records(stream(cml(body))))
    assert result[0].kind == records.OFFERS_CHANGES
    assert result[0].changes_only is True
    assert result[0].catalogue_id == "cat-1"
    offer = result[1]
    assert (offer.id, offer.product_id, offer.characteristic_id) == ("prod-1#char-2", "prod-1", "char-2")
    assert offer.stocks == [("wh-1", Decimal(3)), ("wh-2", Decimal(0))]
    assert offer.prices[0].value == Decimal("99.90")
    assert offer.quantity == Decimal(3)


ORDER = "<Документ><Ид>1</Ид><Номер>1</Номер><Товары><Товар><Ид>prod-1</Ид></Товар></Товары></Документ>"


@pytest.mark.parametrize(
    "body",
    [ORDER + ORDER, f"<Контейнер>{ORDER}</Контейнер>", ""],
    ids=["documents", "container-3.1", "empty"],
)
def test_orders_yield_only_the_document(body):
    result = list(iter_records(stream(cml(body))))
    assert len(result) == 1
    assert result[0].kind == records.ORDERS
    assert result[0].changes_only is None


def test_header_only_offers_package_followed_by_its_properties_is_a_classifier():
    """1C-Bitrix 2.09 splits: an empty ПакетПредложений, then a Классификатор of offer properties."""
    body = (
        '<ПакетПредложений СодержитТолькоИзменения="false"><Ид>c#</Ид><Наименование>П</Наименование>'
        "<ИдКаталога>c</ИдКаталога></ПакетПредложений>"
        "<Классификатор><Ид>c</Ид><Наименование>c</Наименование><Свойства>"
        "<Свойство><Ид>p</Ид><Наименование>Размер</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>"
        "</Свойства></Классификатор>"
    )
    result = list(iter_records(stream(cml(body))))
    assert result[0].kind == records.CLASSIFIER
    assert [record.id for record in by_type(result, records.Property)] == ["p"]
    header_only = "<ПакетПредложений><Ид>c#</Ид><Наименование>П</Наименование></ПакетПредложений>"
    assert read_document(stream(cml(header_only))).kind == records.OFFERS


def test_windows_1251_declared():
    data = cml(CLASSIFIER + PRODUCTS, encoding="windows-1251", ns=None, version="2.03")
    assert "Шапка".encode("cp1251") in data
    products = by_type(iter_records(stream(data)), records.Product)
    assert products[0].name == "Шапка зимняя"


def test_windows_1251_without_declaration_is_recognised():
    data = cml_text(PRODUCTS, ns=None, declaration=False).encode("cp1251")
    products = by_type(iter_records(stream(data)), records.Product)
    assert products[0].name == "Шапка зимняя"


@pytest.mark.parametrize("declaration", [True, False], ids=["with-declaration", "without-declaration"])
def test_utf8_byte_order_mark(declaration):
    data = cml(OFFERS, bom=True, declaration=declaration)
    assert data.startswith(b"\xef\xbb\xbf")
    offers = by_type(iter_records(stream(data)), records.Offer)
    assert offers[0].name == "Шапка зимняя (54)"


def test_byte_order_mark_wins_over_a_wrong_declaration():
    data = cml(OFFERS, bom=True).replace(b'encoding="UTF-8"', b'encoding="windows-1251"')
    assert by_type(iter_records(stream(data)), records.Offer)[0].name == "Шапка зимняя (54)"


def test_reads_from_a_path(tmp_path):
    path = tmp_path / "import0_1.xml"
    path.write_bytes(cml(CLASSIFIER + PRODUCTS, bom=True))
    assert read_document(path).kind == records.CATALOGUE
    assert read_document(str(path)).kind == records.CATALOGUE
    assert len(by_type(iter_records(path), records.Product)) == 5


def test_read_document_stops_early():
    """read_document reads only up to the kind: the broken products after it are never reached."""
    filler = "".join(
        f"<Товар><Ид>filler-{number}</Ид><Наименование>{'x' * 200}</Наименование></Товар>"
        for number in range(2000)
    )
    broken = PRODUCTS.replace("<Товары>", "<Товары>" + filler).replace(
        "<Ид>prod-3</Ид>", "<Ид>prod-3</Ид></Каталог>"
    )
    data = cml(CLASSIFIER + broken)
    assert read_document(stream(data)).kind == records.CATALOGUE
    with pytest.raises(CommerceMLError, match="not well-formed"):
        list(iter_records(stream(data)))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1719", Decimal(1719)),
        (" 1 719,50 ", Decimal("1719.50")),
        ("1\u00a0719,5", Decimal("1719.5")),
        ("1\u202f000", Decimal(1000)),
        ("0,01", Decimal("0.01")),
        ("1,719.50", Decimal("1719.50")),
        ("1.719,50", Decimal("1719.50")),
        ("-3", Decimal(-3)),
        ("1719.50", Decimal("1719.50")),
        (" 1719.5\n", Decimal("1719.5")),
        ("-0.25", Decimal("-0.25")),
        ("1 000.25", Decimal("1000.25")),
        ("1'000.5", Decimal("1000.5")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_decimal(text, expected):
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "NaN", "1e", "Infinity", "-inf", "sNaN", "1.2.3"])
def test_parse_decimal_rejects_words(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a#b", ("a#b", "a", "b")),
        ("a#", ("a", "a", None)),
        ("a", ("a", "a", None)),
        (" a # b ", ("a#b", "a", "b")),
    ],
)
def test_split_offer_id(raw, expected):
    assert split_offer_id(raw) == expected
