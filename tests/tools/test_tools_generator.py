"""The exchange generator writes what 1C writes, and ``expected()`` tells the truth about it."""

import codecs
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from lxml import etree
from PIL import Image

from integration_1c.testing.generator import (
    NS_2,
    NS_3,
    ean13,
    generate_exchange,
    generate_offer_changes,
)

FIXED = datetime(2024, 5, 17, 10, 30, 0)


def q(ns, *names):
    return "/".join(f"{{{ns}}}{name}" for name in names)


def parse(path):
    return etree.parse(str(path)).getroot()


_SCHEMAS = {}


@pytest.fixture
def xsd_208(spec_dir):
    """The official 2.08 XSD (loaded once; skipped when ../shared is absent)."""
    import xmlschema

    path = str(spec_dir / "commerceml-2.08.xsd")
    if path not in _SCHEMAS:
        _SCHEMAS[path] = xmlschema.XMLSchema(path)
    return _SCHEMAS[path]


@pytest.fixture(scope="module")
def full_208(tmp_path_factory):
    return generate_exchange(tmp_path_factory.mktemp("g208"), products=120, seed=7, generated_at=FIXED)


@pytest.fixture(scope="module")
def full_31(tmp_path_factory):
    return generate_exchange(
        tmp_path_factory.mktemp("g31"),
        products=80,
        seed=7,
        schema="3.1",
        encoding="windows-1251",
        generated_at=FIXED,
    )


def assert_valid(schema, path):
    errors = [f"{error.path}: {error.reason}" for error in schema.iter_errors(str(path))]
    assert not errors, errors[:5]


# Encoding, declaration, namespace ------------------------------------------------------------


def test_utf8_files_start_with_a_bom_and_name_their_encoding(full_208):
    assert full_208.file_names == ["import.xml", "offers.xml"]
    for path in full_208.files:
        head = path.read_bytes()[:60]
        assert head.startswith(codecs.BOM_UTF8 + b'<?xml version="1.0" encoding="UTF-8"?>')
        root = parse(path)
        assert root.tag == f"{{{NS_2}}}КоммерческаяИнформация"
        assert root.get("ВерсияСхемы") == "2.08"
        assert root.get("ДатаФормирования") == "2024-05-17T10:30:00"


def test_windows_1251_files_say_so_and_keep_russian_text(full_31):
    assert full_31.file_names == ["import.xml", "offers.xml", "prices.xml", "rests.xml"]
    names = {p["name"] for p in full_31.expected()["products"].values()}
    for path in full_31.files:
        raw = path.read_bytes()
        assert raw.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
        raw.decode("cp1251")  # really windows-1251 throughout
        root = parse(path)
        assert root.tag == f"{{{NS_3}}}КоммерческаяИнформация"
        assert root.get("ВерсияСхемы") == "3.1"
    products = parse(full_31.files[0]).iter(f"{{{NS_3}}}Товар")
    assert {product.findtext(q(NS_3, "Наименование")) for product in products} == names


# Against the official 2.08 schema ---------------------------------------------------------


def test_208_import_and_offers_validate_against_the_xsd(full_208, xsd_208):
    for path in full_208.files:
        assert_valid(xsd_208, path)


def test_demo_and_changes_validate_against_the_xsd(tmp_path, xsd_208):
    demo = generate_exchange(tmp_path / "demo", demo=True, images=False)
    changes = generate_offer_changes(tmp_path / "changes", base_seed=7, offers=15, products=120)
    for path in [*demo.files, *changes.files]:
        assert_valid(xsd_208, path)


# The 2.08 content ---------------------------------------------------------------------------


def test_208_import_holds_nested_groups_properties_and_1c_style_products(full_208):
    root = parse(full_208.files[0])
    ns = NS_2
    classifier = root.find(q(ns, "Классификатор"))
    depth3 = classifier.findall(q(ns, "Группы", "Группа", "Группы", "Группа", "Группы", "Группа"))
    assert depth3
    types = {p.findtext(q(ns, "ТипЗначений")) for p in classifier.iterfind(q(ns, "Свойства", "Свойство"))}
    assert {"Справочник", "Число", "Строка"} <= types

    products = root.findall(q(ns, "Каталог", "Товары", "Товар"))
    assert len(products) == 120
    for product in products:
        unit = product.find(q(ns, "БазоваяЕдиница"))
        assert (unit.get("Код"), unit.get("НаименованиеПолное"), unit.text) == ("796 ", "Штука", "шт")
        barcode = product.findtext(q(ns, "Штрихкод"))
        assert barcode == ean13(int(barcode[:12]))
        requisites = {
            r.findtext(q(ns, "Наименование"))
            for r in product.iterfind(q(ns, "ЗначенияРеквизитов", "ЗначениеРеквизита"))
        }
        assert {"ВидНоменклатуры", "ТипНоменклатуры", "Полное наименование"} <= requisites
        for picture in product.iterfind(q(ns, "Картинка")):
            assert picture.text.startswith("import_files/") and picture.text.endswith(".png")
    deleted = {p.findtext(q(ns, "Ид")) for p in products if p.get("Статус") == "Удален"}
    assert deleted == set(full_208.expected()["deleted_ids"])


def test_pictures_exist_and_are_valid_pngs(full_208):
    assert full_208.images
    for relative in full_208.images[:20]:
        with Image.open(full_208.dir / relative) as image:
            image.verify()
            assert image.format == "PNG"


def read_208_offers(path):
    """Offers of a 2.08 package read straight from the XML: id -> prices by type name, stocks."""
    ns = NS_2
    root = parse(path)
    package = root.find(q(ns, "ПакетПредложений"))
    type_names = {
        t.findtext(q(ns, "Ид")): t.findtext(q(ns, "Наименование"))
        for t in package.iterfind(q(ns, "ТипыЦен", "ТипЦены"))
    }
    offers = {}
    order = []
    for offer in package.iterfind(q(ns, "Предложения", "Предложение")):
        offer_id = offer.findtext(q(ns, "Ид"))
        order.append(offer_id)
        offers[offer_id] = {
            "prices": {
                type_names[p.findtext(q(ns, "ИдТипаЦены"))]: Decimal(p.findtext(q(ns, "ЦенаЗаЕдиницу")))
                for p in offer.iterfind(q(ns, "Цены", "Цена"))
            },
            "stocks": {
                s.get("ИдСклада"): int(s.get("КоличествоНаСкладе")) for s in offer.iterfind(q(ns, "Склад"))
            },
            "quantity": int(offer.findtext(q(ns, "Количество"))),
            "characteristics": {
                c.findtext(q(ns, "Наименование")): c.findtext(q(ns, "Значение"))
                for c in offer.iterfind(q(ns, "ХарактеристикиТовара", "ХарактеристикаТовара"))
            },
        }
    return package, offers, order


def test_expected_matches_the_208_files(full_208):
    expected = full_208.expected()
    package, offers, _order = read_208_offers(full_208.files[1])
    assert package.get("СодержитТолькоИзменения") == "false"
    assert set(offers) == set(expected["offers"])
    assert len(offers) == full_208.offers
    for offer_id, offer in offers.items():
        want = expected["offers"][offer_id]
        assert offer["prices"] == want["prices"]
        assert offer["stocks"] == want["stocks"]
        assert offer["quantity"] == want["quantity"] == sum(want["stocks"].values())
        assert offer["characteristics"] == want["characteristics"]
    # Every visible product has offers; deleted ones none; variants are "product#characteristic".
    for product_id, product in expected["products"].items():
        assert bool(product["offer_ids"]) != product["deleted"]
        if product["structure"] == "parent":
            assert len(product["offer_ids"]) >= 2
            assert all(oid.startswith(product_id + "#") for oid in product["offer_ids"])
        elif not product["deleted"]:
            assert product["offer_ids"] == [product_id]
    assert set(expected["product_ids"]) | set(expected["deleted_ids"]) == set(expected["products"])
    assert len(expected["warehouses"]) == 3
    assert set(expected["price_types"].values()) == {"Розничная", "Оптовая", "Старая цена"}
    share = sum(p["structure"] == "parent" for p in expected["products"].values()) / 120
    assert 0.1 < share < 0.45


def test_variant_offers_are_not_all_contiguous(full_208):
    _, _offers, order = read_208_offers(full_208.files[1])
    positions = defaultdict(list)
    for index, offer_id in enumerate(order):
        if "#" in offer_id:
            positions[offer_id.split("#")[0]].append(index)
    split = [p for p in positions.values() if max(p) - min(p) + 1 != len(p)]
    assert split, "some product's variants must be separated by other offers"


def test_same_seed_same_bytes_other_seed_other_ids(tmp_path):
    first = generate_exchange(tmp_path / "a", products=30, seed=5, generated_at=FIXED)
    second = generate_exchange(tmp_path / "b", products=30, seed=5, generated_at=FIXED)
    other = generate_exchange(tmp_path / "c", products=30, seed=6, generated_at=FIXED)
    for a, b in zip(first.files, second.files):
        assert a.read_bytes() == b.read_bytes()
    assert first.images == second.images
    assert all((first.dir / i).read_bytes() == (second.dir / i).read_bytes() for i in first.images)
    assert not set(first.expected()["products"]) & set(other.expected()["products"])


# 3.1 ---------------------------------------------------------------------------------------


def test_31_split_files(full_31):
    ns = NS_3
    expected = full_31.expected()
    import_root, offers_root, prices_root, rests_root = (parse(p) for p in full_31.files)

    classifier = import_root.find(q(ns, "Классификатор"))
    assert classifier.find(q(ns, "ТипыЦен")) is not None and classifier.find(q(ns, "Склады")) is not None
    products = import_root.findall(q(ns, "Каталог", "Товары", "Товар"))
    marked = {p.findtext(q(ns, "Ид")) for p in products if p.findtext(q(ns, "ПометкаУдаления")) == "true"}
    assert marked == set(expected["deleted_ids"]) and marked
    assert all(p.findtext(q(ns, "НомерВерсии")) for p in products)

    offers = offers_root.findall(q(ns, "ПакетПредложений", "Предложения", "Предложение"))
    assert {o.findtext(q(ns, "Ид")) for o in offers} == set(expected["offers"])
    assert not offers_root.findall(f".//{{{ns}}}Цены") and not offers_root.findall(f".//{{{ns}}}Остатки")

    prices_package = prices_root.find(q(ns, "ПакетПредложений"))
    type_names = {
        t.findtext(q(ns, "Ид")): t.findtext(q(ns, "Наименование"))
        for t in prices_package.iterfind(q(ns, "ТипыЦен", "ТипЦены"))
    }
    for offer in prices_package.iterfind(q(ns, "Предложения", "Предложение")):
        prices = {
            type_names[p.findtext(q(ns, "ИдТипаЦены"))]: Decimal(p.findtext(q(ns, "ЦенаЗаЕдиницу")))
            for p in offer.iterfind(q(ns, "Цены", "Цена"))
        }
        assert prices == expected["offers"][offer.findtext(q(ns, "Ид"))]["prices"]

    rests_package = rests_root.find(q(ns, "ПакетПредложений"))
    assert {w.findtext(q(ns, "Ид")) for w in rests_package.iterfind(q(ns, "Склады", "Склад"))} == set(
        expected["warehouses"]
    )
    for offer in rests_package.iterfind(q(ns, "Предложения", "Предложение")):
        stocks = {
            s.findtext(q(ns, "Ид")): int(s.findtext(q(ns, "Количество")))
            for s in offer.iterfind(q(ns, "Остатки", "Остаток", "Склад"))
        }
        assert stocks == expected["offers"][offer.findtext(q(ns, "Ид"))]["stocks"]


def test_31_package_reads_back_through_the_project_reader(full_31):
    """The shop's own streaming reader sees exactly what expected() promises."""
    from integration_1c.commerceml import records
    from integration_1c.commerceml.reader import iter_records

    expected = full_31.expected()
    type_names = expected["price_types"]
    seen_prices, seen_stocks, deleted = {}, {}, set()
    for path in full_31.files:
        for record in iter_records(path):
            if isinstance(record, records.Product) and record.deleted:
                deleted.add(record.id)
            elif isinstance(record, records.Offer) and record.prices is not None:
                seen_prices[record.id] = {type_names[p.price_type_id]: p.value for p in record.prices}
            elif isinstance(record, records.Offer) and record.stocks is not None:
                seen_stocks[record.id] = {w: int(q) for w, q in record.stocks}
    assert deleted == set(expected["deleted_ids"])
    assert seen_prices == {oid: o["prices"] for oid, o in expected["offers"].items()}
    assert seen_stocks == {oid: o["stocks"] for oid, o in expected["offers"].items()}


# Changes-only -------------------------------------------------------------------------------


def test_changes_only_package_changes_existing_offers(tmp_path, full_208):
    base = full_208.expected()["offers"]
    changes = generate_exchange(tmp_path / "ch", products=120, seed=7, changes_only=True, changed_offers=25)
    assert changes.changes_only and changes.file_names == ["offers.xml"]
    package, offers, _ = read_208_offers(changes.files[0])
    assert package.get("СодержитТолькоИзменения") == "true"
    assert len(offers) == 25 and set(offers) <= set(base)
    expected = changes.expected()
    assert expected["changes_only"] and not expected["products"]
    for offer_id, offer in offers.items():
        assert offer["prices"] == expected["offers"][offer_id]["prices"]
        assert offer["stocks"] == expected["offers"][offer_id]["stocks"]
    changed = sum(offers[oid]["prices"]["Розничная"] != base[oid]["prices"]["Розничная"] for oid in offers)
    assert changed >= 20


def test_31_changes_only_writes_prices_and_rests(tmp_path):
    changes = generate_offer_changes(tmp_path, base_seed=2, offers=5, schema="3.1", products=20)
    assert changes.file_names == ["prices.xml", "rests.xml"]
    for path in changes.files:
        package = parse(path).find(q(NS_3, "ПакетПредложений"))
        assert package.get("СодержитТолькоИзменения") == "true"
        assert len(package.findall(q(NS_3, "Предложения", "Предложение"))) == 5


# Demo ----------------------------------------------------------------------------------------


def test_demo_is_a_readable_russian_shop(tmp_path):
    demo = generate_exchange(tmp_path, demo=True)
    expected = demo.expected()
    assert 50 <= demo.products <= 70
    top = {g["name"] for g in expected["groups"].values() if g["parent_id"] is None}
    assert {"Инструменты", "Одежда", "Электроника"} <= top
    tshirts = [o for o in expected["offers"].values() if o["name"].startswith("Футболка мужская базовая")]
    assert len(tshirts) > 1 and all({"Размер", "Цвет"} <= set(o["characteristics"]) for o in tshirts)
    assert all(o["prices"]["Розничная"] > 0 for o in expected["offers"].values())
    assert any(o["quantity"] == 0 for o in expected["offers"].values())
    assert len(expected["deleted_ids"]) == 1
    with Image.open(io.BytesIO((demo.dir / demo.images[0]).read_bytes())) as image:
        assert image.size == (240, 240)


def test_ean13_check_digit():
    assert ean13(460123456789) == "4601234567893"
    assert ean13(978030640615) == "9780306406157"
