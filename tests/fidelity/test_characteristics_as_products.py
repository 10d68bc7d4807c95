"""
УТ 10.x and older exchange modules send every characteristic as a Товар of its own,
``Ид`` = ``product#characteristic``: one product with a variant per characteristic, and
the offers ``p#c`` land on those variants.
"""

import pytest

from integration_1c.commerceml import reader
from integration_1c.commerceml import records as rec
from integration_1c.services import importer
from tests.services.builders import Product, ProductCategory, attribute_values, prices_of, snapshot, stock_of

from . import cml

pytestmark = pytest.mark.django_db

VERSIONS = ["2.03", "2.08", "3.1"]


def apply_bytes(tmp_path, name, data, **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    return importer.apply_path(path, **kwargs)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_reader_splits_an_item_id_into_product_and_characteristic(tmp_path, version):
    path = tmp_path / "import.xml"
    path.write_bytes(cml.ut10_catalogue(version))

    products = [r for r in reader.iter_records(path) if isinstance(r, rec.Product)]

    item = next(p for p in products if p.id == "tshirt#red-m")
    assert (item.product_id, item.characteristic_id) == ("tshirt", "red-m")
    assert item.characteristics == [("Цвет", "Красный"), ("Размер", "M")]
    cap = next(p for p in products if p.id == "cap")
    assert (cap.product_id, cap.characteristic_id) == ("cap", None)


@pytest.mark.parametrize("version", VERSIONS)
def test_items_without_a_product_become_one_product_with_variants(tmp_path, version):
    report = apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue(version))

    parent = Product.objects.get(code="tshirt")
    assert parent.structure == Product.PARENT
    assert parent.title == "Футболка"  # the shared name, without the characteristics
    assert parent.is_public
    assert list(ProductCategory.objects.filter(product=parent).values_list("category__code", flat=True)) == ["g1"]
    assert attribute_values("tshirt")["p_brand"] == "Acme"
    children = Product.objects.filter(parent=parent).order_by("code")
    assert [c.code for c in children] == ["tshirt#blue-m", "tshirt#red-l", "tshirt#red-m"]
    assert all(c.structure == Product.CHILD for c in children)
    assert not ProductCategory.objects.filter(product__in=children).exists()
    values = attribute_values("tshirt#red-l")
    assert values["article"] == "TS-red-l"
    assert sorted(v for k, v in values.items() if k.startswith("c_")) == ["L", "Красный"]
    assert Product.objects.filter(code__startswith="tshirt").count() == 4
    assert not [w for w in report.warnings if "вариант" in w]


@pytest.mark.parametrize("version", VERSIONS)
def test_offers_of_items_land_on_the_variants(tmp_path, version):
    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue(version))

    report = apply_bytes(tmp_path, "offers.xml", cml.ut10_offers(version))

    assert report.skipped == 0
    assert not [w for w in report.warnings if "не найден" in w]
    assert prices_of("tshirt#red-m") == {"rt": 1500}
    assert stock_of("tshirt#blue-m")["wh"][0] == 7
    assert stock_of("tshirt#blue-m")["site"][0] == 7
    assert stock_of("cap")["wh"][0] == 2
    assert not stock_of("tshirt")  # Oscar keeps no stock on a parent


def test_a_product_item_of_its_own_gives_the_parent_its_data(tmp_path):
    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue("2.08", with_product=True))

    parent = Product.objects.get(code="tshirt")
    assert parent.structure == Product.PARENT
    assert parent.title == "Футболка"
    assert Product.objects.filter(parent=parent).count() == 3


def test_items_in_other_batches_still_make_one_product(tmp_path, settings):
    settings.ONEC_BATCH_SIZE = 1  # every item in a batch of its own

    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue("3.1"))

    assert Product.objects.filter(code="tshirt", structure=Product.PARENT).count() == 1
    assert Product.objects.filter(parent__code="tshirt").count() == 3


def test_importing_the_same_items_twice_changes_nothing(tmp_path):
    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue("2.08"))
    apply_bytes(tmp_path, "offers.xml", cml.ut10_offers("2.08"))
    before = snapshot(ids=True)

    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue("2.08"))
    apply_bytes(tmp_path, "offers.xml", cml.ut10_offers("2.08"))

    assert snapshot(ids=True) == before


def test_products_an_older_import_made_of_items_become_variants(tmp_path):
    """Before this rule every item was a product of its own: a re-import repairs the shop."""
    from tests.services.builders import apply, product

    apply(product("tshirt#red-m", "Футболка (Красный, M)", group_ids=["g1"]))
    old = Product.objects.get(code="tshirt#red-m")
    old.structure = Product.STANDALONE
    old.save()

    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue("2.08"))

    old.refresh_from_db()
    assert old.structure == Product.CHILD
    assert old.parent.code == "tshirt"
    assert not ProductCategory.objects.filter(product=old).exists()


def test_a_deleted_item_hides_its_variant_only(tmp_path):
    apply_bytes(tmp_path, "import.xml", cml.ut10_catalogue("3.1"))
    data = cml.ut10_catalogue("3.1").replace(
        "<Ид>tshirt#red-l</Ид>".encode(), "<Ид>tshirt#red-l</Ид><ПометкаУдаления>true</ПометкаУдаления>".encode()
    )

    apply_bytes(tmp_path, "import.xml", data)

    assert Product.objects.get(code="tshirt#red-l").is_public is False
    assert Product.objects.get(code="tshirt#red-m").is_public is True
    assert Product.objects.get(code="tshirt").is_public is True
