"""
The reader against every real 1C file in ../shared/commerceml/samples.

Each figure the reader produces is checked against an independent count made with a
full ``lxml.etree.parse`` and XPath on local names, so the test holds for sample files
added later, not only for the ones known today.
"""

import functools
from collections import Counter
from decimal import Decimal

import pytest
from lxml import etree

from integration_1c.commerceml import iter_records, read_document, records
from tests.conftest import SAMPLES_DIR

SAMPLE_FILES = sorted(SAMPLES_DIR.glob("**/*.xml")) if SAMPLES_DIR.is_dir() else []

#: What we know the current samples are (others are judged by the XPath oracle only).
KNOWN_KINDS = {
    "carono-php-commerceml/classifier.xml": records.CLASSIFIER,  # a bare <Классификатор> fragment
    "carono-php-commerceml/import.xml": records.CATALOGUE,
    "carono-php-commerceml/import_wo_classifier.xml": records.CATALOGUE,
    "carono-php-commerceml/offers.xml": records.OFFERS,
    "carono-php-commerceml/orders.xml": records.ORDERS,
    "dobromyslov-commerceml-parser/bitrix-query-response-empty.xml": records.ORDERS,
    "dobromyslov-commerceml-parser/bitrix-query-response-full.xml": records.ORDERS,
    "dobromyslov-commerceml-parser/import0_1.xml": records.CATALOGUE,
    "dobromyslov-commerceml-parser/import0_1_with_nested_groups.xml": records.CATALOGUE,
    "dobromyslov-commerceml-parser/offers0_1.xml": records.OFFERS,
    # 2.09 split: classifier + an empty Каталог header, no Товары
    "gillbeits-commerceml-2.09-split/import___b815e2db-7a65-4265-9241-5f0c4f0565a7.xml": records.CLASSIFIER,
    "gillbeits-commerceml-2.09-split/offers___7f304edc-2527-4d3d-b058-6e4ee53de2e0.xml": records.OFFERS,
    # an empty ПакетПредложений header followed by the offers' Свойства
    "gillbeits-commerceml-2.09-split/offers___f0bab95c-14a6-4141-9746-6650b65f1191.xml": records.CLASSIFIER,
    "gillbeits-commerceml-2.09-split/prices___d66a6b51-ce9c-4e7a-8c7c-25079721107f.xml": records.OFFERS,
    "gillbeits-commerceml-2.09-split/rests___1af6e7b8-a026-4690-9752-1c9d64cb914d.xml": records.OFFERS,
    "official-2.03/from.xml": records.ORDERS,
    "official-2.03/to.xml": records.ORDERS,
    "turumburum-3.1/classifier.xml": records.CLASSIFIER,
    "turumburum-3.1/import.xml": records.CATALOGUE,
    "turumburum-3.1/offers.xml": records.OFFERS,
    "turumburum-3.1/prices.xml": records.OFFERS,
    "turumburum-3.1/rests.xml": records.OFFERS,
}

pytestmark = pytest.mark.shared


def _relative(path):
    return path.relative_to(SAMPLES_DIR).as_posix()


def L(*names):
    """An XPath step chain on local names: L("Каталог", "Товары") -> *[local-name()='Каталог']/*[...]."""
    return "/".join(f"*[local-name()='{name}']" for name in names)


class Oracle:
    """Independent figures of one file from a full parse (fine for the small samples)."""

    def __init__(self, path):
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        self.root = etree.parse(str(path), parser).getroot()
        self.root_name = etree.QName(self.root).localname

    def xpath(self, expression):
        return self.root.xpath(expression)

    def sections(self, name):
        """The section elements called ``name``: children of the root, or the root itself."""
        if self.root_name == name:
            return [self.root]
        return self.xpath(L(name))

    def count(self, section, *steps):
        return sum(len(element.xpath(L(*steps))) for element in self.sections(section))

    def kind(self):
        if self.root_name == "КоммерческаяИнформация" and (
            self.xpath(L("Документ")) or self.xpath(L("Контейнер")) or not len(self.root)
        ):
            return records.ORDERS
        if any(element.xpath(L("Товары")) for element in self.sections("Каталог")):
            return records.CATALOGUE
        for section, kind in (
            ("ПакетПредложений", records.OFFERS),
            ("ИзмененияПакетаПредложений", records.OFFERS_CHANGES),
        ):
            for element in self.sections(section):
                content = [
                    child
                    for child in element
                    if isinstance(child.tag, str)
                    and etree.QName(child).localname
                    not in {"Ид", "ИдКаталога", "ИдКлассификатора", "Наименование", "Владелец", "Описание"}
                ]
                if content or not self.sections("Классификатор"):
                    return kind
        return records.CLASSIFIER

    def offers(self):
        return [
            offer
            for section in ("ПакетПредложений", "ИзмененияПакетаПредложений")
            for element in self.sections(section)
            for offer in element.xpath(L("Предложения", "Предложение"))
        ]


def _number(text):
    return Decimal(text.replace("\xa0", "").replace(" ", "").replace(",", "."))


@functools.cache
def _read(path):
    return Oracle(path), list(iter_records(path))


@pytest.fixture(params=SAMPLE_FILES, ids=[_relative(path) for path in SAMPLE_FILES])
def sample(request, samples_dir):
    path = request.param
    return (path, *_read(path))


def test_samples_are_present(samples_dir):
    """The conformance tests below must have something to read."""
    files = sorted(samples_dir.glob("**/*.xml"))
    assert files, f"no XML samples in {samples_dir}"
    versions = {read_document(path).schema_version for path in files}
    assert {"2.03", "2.07", "2.09", "3.1"} <= versions


def test_kind_is_detected_from_content(sample):
    path, oracle, stream = sample
    document = stream[0]
    assert isinstance(document, records.Document)
    assert sum(isinstance(record, records.Document) for record in stream) == 1
    assert document.kind == oracle.kind()
    if _relative(path) in KNOWN_KINDS:
        assert document.kind == KNOWN_KINDS[_relative(path)]
    assert read_document(path) == document
    assert document.schema_version == (oracle.root.get("ВерсияСхемы") or "")


def test_record_counts_match_an_independent_count(sample):
    _path, oracle, stream = sample
    counts = Counter(type(record).__name__ for record in stream)
    if stream[0].kind == records.ORDERS:
        assert counts == {"Document": 1}, "an orders file yields its Document only"
        return
    assert counts["Product"] == oracle.count("Каталог", "Товары", "Товар")
    assert counts["Offer"] == len(oracle.offers())
    assert counts["Group"] == sum(
        len(element.xpath(f".//{L('Группа')}")) for element in oracle.sections("Классификатор")
    )
    assert counts["Property"] == oracle.count("Классификатор", "Свойства", "Свойство") + oracle.count(
        "Классификатор", "Свойства", "СвойствоНоменклатуры"
    )
    assert counts["PriceType"] == oracle.count("Классификатор", "ТипыЦен", "ТипЦены") + oracle.count(
        "ПакетПредложений", "ТипыЦен", "ТипЦены"
    )
    assert counts["Warehouse"] == oracle.count("Классификатор", "Склады", "Склад") + oracle.count(
        "ПакетПредложений", "Склады", "Склад"
    )
    assert counts["Unit"] == oracle.count("Классификатор", "ЕдиницыИзмерения", "ЕдиницаИзмерения")


def test_offer_figures_match(sample):
    _path, oracle, stream = sample
    offers = [record for record in stream if isinstance(record, records.Offer)]
    elements = oracle.offers()
    assert len(offers) == len(elements)

    assert sum(len(offer.prices or []) for offer in offers) == sum(
        len(element.xpath(L("Цены", "Цена"))) for element in elements
    )
    expected_stock = sum(
        (
            _number(value)
            for element in elements
            for value in element.xpath(f"{L('Склад')}/@КоличествоНаСкладе")
        ),
        Decimal(0),
    ) + sum(
        (
            _number(value.text)
            for element in elements
            for value in element.xpath(L("Остатки", "Остаток", "Склад", "Количество"))
        ),
        Decimal(0),
    )
    assert (
        sum((quantity for offer in offers for _, quantity in offer.stocks or []), Decimal(0))
        == expected_stock
    )
    expected_warehouse_rows = sum(
        len(element.xpath(f"{L('Склад')}[@ИдСклада]")) + len(element.xpath(L("Остатки", "Остаток", "Склад")))
        for element in elements
    )
    assert sum(len(offer.stocks or []) for offer in offers) == expected_warehouse_rows
    assert sum((offer.quantity or 0 for offer in offers), Decimal(0)) == sum(
        (
            _number(element.xpath(L("Количество"))[0].text)
            for element in elements
            if element.xpath(L("Количество"))
        ),
        Decimal(0),
    )

    for offer, element in zip(offers, elements, strict=True):
        raw_id = element.xpath(L("Ид"))[0].text.strip()
        product_part, _, characteristic_part = raw_id.partition("#")
        assert offer.product_id == product_part
        assert offer.characteristic_id == (characteristic_part or None)
        assert offer.id == (raw_id if characteristic_part else product_part)
        # None means "this file says nothing about it": never an empty list by accident.
        assert (offer.prices is None) == (not element.xpath(L("Цены")))
        has_warehouses = bool(element.xpath(f"{L('Склад')}[@ИдСклада]") or element.xpath(L("Остатки")))
        assert (offer.stocks is None) == (not has_warehouses)


def test_products_match(sample):
    _path, oracle, stream = sample
    products = [record for record in stream if isinstance(record, records.Product)]
    elements = [
        element for section in oracle.sections("Каталог") for element in section.xpath(L("Товары", "Товар"))
    ]
    assert [product.id for product in products] == [
        element.xpath(L("Ид"))[0].text.strip() for element in elements
    ]
    for product, element in zip(products, elements, strict=True):
        deleted = (
            element.get("Статус") == "Удален"
            or any(value.text == "Удален" for value in element.xpath(L("Статус")))
            or any((value.text or "").strip() == "true" for value in element.xpath(L("ПометкаУдаления")))
        )
        assert product.deleted == deleted
        assert product.group_ids == [value.text.strip() for value in element.xpath(L("Группы", "Ид"))]
        assert [image.path for image in product.images] == [
            value.text.strip() for value in element.xpath(L("Картинка")) if (value.text or "").strip()
        ]
        assert len(product.properties) == sum(
            max(1, len(value.xpath(L("Значение"))))
            for value in element.xpath(L("ЗначенияСвойств", "ЗначенияСвойства"))
        )
        unit = element.xpath(L("БазоваяЕдиница"))
        if unit and unit[0].get("Код"):
            assert product.unit_code == str(int(unit[0].get("Код").strip()))
            assert product.unit_name


def test_groups_come_parents_first_with_the_tree_of_the_file(sample):
    _path, oracle, stream = sample
    groups = [record for record in stream if isinstance(record, records.Group)]
    seen = set()
    for group in groups:
        assert group.parent_id is None or group.parent_id in seen, f"{group.name} came before its parent"
        seen.add(group.id)
    expected = {}
    for section in oracle.sections("Классификатор"):
        for element in section.xpath(f".//{L('Группа')}"):
            parent = element.getparent().getparent()
            parent_id = (
                parent.xpath(L("Ид"))[0].text.strip() if etree.QName(parent).localname == "Группа" else None
            )
            expected[element.xpath(L("Ид"))[0].text.strip()] = parent_id
    assert {group.id: group.parent_id for group in groups} == expected


def test_nested_groups_sample_has_depth(samples_dir):
    """The nested-groups sample really nests, so the ordering test above proves something."""
    path = samples_dir / "dobromyslov-commerceml-parser" / "import0_1_with_nested_groups.xml"
    if not path.exists():
        pytest.skip("nested groups sample not present")
    groups = [record for record in iter_records(path) if isinstance(record, records.Group)]
    assert any(group.parent_id for group in groups)
    assert any(group.parent_id is None for group in groups)


def test_image_captions_from_file_descriptions(samples_dir):
    path = samples_dir / "carono-php-commerceml" / "import.xml"
    if not path.exists():
        pytest.skip("carono sample not present")
    products = [record for record in iter_records(path) if isinstance(record, records.Product)]
    images = [image for product in products for image in product.images]
    assert images and all(image.path.startswith("import_files/") for image in images)
    assert any(image.caption == "Фото1" for image in images)
