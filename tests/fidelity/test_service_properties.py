"""
Service properties of 1C's Bitrix module and of Bitrix's own exports (``CML2_ACTIVE``,
``CML2_SORT``, ``CML2_ARTICLE``, ``CML2_BAR_CODE``, ``CML2_TRAITS``, ``CML2_LINK`` …)
are understood, never reported as unknown properties.
"""

import pytest

from integration_1c.commerceml import reader
from integration_1c.commerceml import records as rec
from integration_1c.services import importer
from tests.services.builders import Product, attribute_values, stock_of

from . import cml

pytestmark = pytest.mark.django_db

SERVICE_DECLARATIONS = "".join(
    f"<Свойство><Ид>{pid}</Ид><Наименование>{name}</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>"
    for pid, name in (("CML2_ACTIVE", "Активность"), ("CML2_SORT", "Сортировка"), ("CML2_ARTICLE", "Артикул"))
)


def apply_bytes(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return importer.apply_path(path)


def bitrix_catalogue(version, active="true"):
    return cml.document(
        cml.catalogue(
            cml.product(
                "p1",
                "Чайник",
                extra=cml.property_values(
                    ("CML2_ACTIVE", active),
                    ("CML2_SORT", "500"),
                    ("CML2_ARTICLE", "KT-1"),
                    ("CML2_BAR_CODE", "4600000000011"),
                    ("CML2_CODE", "chaynik"),
                )
                + "<ЗначенияСвойств><ЗначенияСвойства><Ид>CML2_TRAITS</Ид><Значение>Вес: 1.2</Значение>"
                "<Значение>Страна: Китай</Значение></ЗначенияСвойства></ЗначенияСвойств>",
            ),
            properties=SERVICE_DECLARATIONS,
        ),
        version=version,
    )


@pytest.mark.parametrize("version", ["2.03", "2.08", "3.1"])
def test_the_reader_takes_service_properties_out_of_the_property_values(tmp_path, version):
    path = tmp_path / "import.xml"
    path.write_bytes(bitrix_catalogue(version, active="false"))

    records = list(reader.iter_records(path))

    assert not [r for r in records if isinstance(r, rec.Property)]  # declarations are not shop properties
    item = next(r for r in records if isinstance(r, rec.Product))
    assert item.properties == []
    assert (item.active, item.sort, item.article, item.barcode) == (False, 500, "KT-1", "4600000000011")
    assert item.requisites == {"Вес": "1.2", "Страна": "Китай"}


@pytest.mark.parametrize("version", ["2.08", "3.1"])
def test_cml2_active_false_hides_the_product_without_warnings(tmp_path, version):
    report = apply_bytes(tmp_path, "import.xml", bitrix_catalogue(version, active="false"))

    assert Product.objects.get(code="p1").is_public is False
    assert attribute_values("p1")["article"] == "KT-1"
    assert report.warnings == []

    apply_bytes(tmp_path, "import.xml", bitrix_catalogue(version, active="true"))
    assert Product.objects.get(code="p1").is_public is True


@pytest.mark.parametrize("version", ["2.08", "3.1"])
def test_cml2_active_false_hides_the_offer(tmp_path, version):
    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue(version))
    off = cml.property_values(("CML2_ACTIVE", "false"))
    data = cml.document(
        cml.offers(
            cml.offer("tshirt#red-m", 1500, 3, name="Футболка (Красный, M)", version=version, extra=off),
            cml.offer("tshirt#blue-m", 1500, 3, version=version),  # a prices/rests file: no name
            cml.offer("cap", 900, 2, name="Кепка", version=version, extra=off),
            full=False,
        ),
        version=version,
    )

    report = apply_bytes(tmp_path, "offers.xml", data)

    assert Product.objects.get(code="tshirt#red-m").is_public is False
    assert Product.objects.get(code="tshirt#blue-m").is_public is True
    assert Product.objects.get(code="cap").is_public is False
    assert stock_of("tshirt#red-m")["wh"][0] == 3
    assert not [w for w in report.warnings if "CML2" in w]


def test_cml2_link_names_the_product_of_a_bitrix_offer(tmp_path):
    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue("2.08"))
    data = cml.document(
        cml.offers(cml.offer("offer-77", 2000, 4, name="Футболка XXL", extra=cml.property_values(("CML2_LINK", "tshirt")))),
    )
    path = tmp_path / "offers.xml"
    path.write_bytes(data)
    item = next(r for r in reader.iter_records(path) if isinstance(r, rec.Offer))
    assert (item.id, item.product_id, item.characteristic_id) == ("tshirt#offer-77", "tshirt", "offer-77")

    importer.apply_path(path)

    assert Product.objects.get(code="tshirt#offer-77").parent.code == "tshirt"
    assert stock_of("tshirt#offer-77")["wh"][0] == 4
