"""Price types, warehouses, variants, prices and stock from hand-built offer records."""

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from integration_1c.commerceml import records as rec
from integration_1c.models import PriceType
from integration_1c.services.context import ImportFailed

from .builders import (
    PRICE_TYPES,
    WAREHOUSES,
    Product,
    StockRecord,
    apply,
    attribute_values,
    offer,
    offers_file,
    prices_of,
    product,
    snapshot,
    stock_of,
)

pytestmark = pytest.mark.django_db

Partner = get_model("partner", "Partner")


@pytest.fixture
def catalogue():
    apply(product("p1", name="Кеды"), product("p2", name="Рюкзак"), product("p3", name="Шапка"))


def test_prices_and_stock_per_warehouse_and_the_sales_record(catalogue):
    report = offers_file(
        *PRICE_TYPES,
        *WAREHOUSES,
        offer("p1", prices={"retail": "1500", "opt": "1200.50"}, stocks={"wh-a": "3", "wh-b": "4"}),
        changes_only=False,
    )

    assert report.updated == 1
    assert PriceType.objects.get(code="retail").name == "Розничная"
    assert Partner.objects.get(code="wh-b").name == "Склад Б"
    assert prices_of("p1") == {"retail": Decimal("1500.00"), "opt": Decimal("1200.50")}
    # The selling type (empty ONEC_PRICE_TYPE: the first type sent) prices every record.
    assert stock_of("p1") == {
        "wh-a": (3, 0, Decimal("1500.00")),
        "wh-b": (4, 0, Decimal("1500.00")),
        "site": (7, 0, Decimal("1500.00")),
    }
    assert StockRecord.objects.get(partner__code="site", partner_sku="p1").price_currency == "KZT"


@pytest.mark.parametrize("configured", ["Оптовая", "opt"])
def test_selling_price_type_by_name_or_id(catalogue, settings, configured):
    settings.ONEC_PRICE_TYPE = configured
    offers_file(
        *PRICE_TYPES, *WAREHOUSES, offer("p1", prices={"retail": "1500", "opt": "1200"}, stocks={"wh-a": "1"})
    )
    assert stock_of("p1")["site"][2] == Decimal("1200.00")


def test_unknown_selling_price_type_fails_with_a_clear_message(catalogue, settings):
    settings.ONEC_PRICE_TYPE = "Интернет"
    with pytest.raises(ImportFailed, match="тип цены «Интернет» \\(ONEC_PRICE_TYPE\\) не найден"):
        offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "1500"}))
    assert not prices_of("p1")


def test_selling_warehouses_limit_the_sales_record(catalogue, settings):
    settings.ONEC_SELLING_WAREHOUSES = ["Склад Б"]
    offers_file(
        *PRICE_TYPES, *WAREHOUSES, offer("p1", prices={"retail": "10"}, stocks={"wh-a": "3", "wh-b": "4"})
    )
    assert stock_of("p1")["site"][0] == 4


def test_total_quantity_only_goes_to_the_default_warehouse(catalogue):
    offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "10"}, quantity="5.7"))
    assert stock_of("p1") == {"1c-total": (5, 0, Decimal("10.00")), "site": (5, 0, Decimal("10.00"))}


def test_negative_and_fractional_quantities(catalogue):
    offers_file(*WAREHOUSES, offer("p1", stocks={"wh-a": "-2", "wh-b": "2.9"}))
    # A warehouse with nothing gets no record (the same as an empty one).
    assert {code: row[0] for code, row in stock_of("p1").items()} == {"wh-b": 2, "site": 2}
    offers_file(offer("p1", stocks={"wh-a": "1", "wh-b": "-1"}))
    assert {code: row[0] for code, row in stock_of("p1").items()} == {"wh-a": 1, "wh-b": 0, "site": 1}


def test_prices_only_file_touches_only_prices(catalogue):
    offers_file(
        *PRICE_TYPES, *WAREHOUSES, offer("p1", prices={"retail": "100", "opt": "90"}, stocks={"wh-a": "3"})
    )
    offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "120", "opt": "95"}), source="prices.xml")

    assert stock_of("p1") == {"wh-a": (3, 0, Decimal("120.00")), "site": (3, 0, Decimal("120.00"))}
    assert prices_of("p1") == {"retail": Decimal("120.00"), "opt": Decimal("95.00")}


def test_rests_only_file_touches_only_stock_and_keeps_known_prices(catalogue):
    offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "100"}), offer("p2", prices={"retail": "50"}))
    before = prices_of("p1")
    offers_file(
        *WAREHOUSES, offer("p1", stocks={"wh-a": "2"}), offer("p2", stocks={"wh-b": "1"}), source="rests.xml"
    )

    assert prices_of("p1") == before
    assert stock_of("p1") == {"wh-a": (2, 0, Decimal("100.00")), "site": (2, 0, Decimal("100.00"))}
    assert stock_of("p2") == {"wh-b": (1, 0, Decimal("50.00")), "site": (1, 0, Decimal("50.00"))}


def test_a_warehouse_the_offer_no_longer_lists_has_nothing_left(catalogue):
    offers_file(*WAREHOUSES, offer("p1", stocks={"wh-a": "2", "wh-b": "5"}))
    offers_file(offer("p1", stocks={"wh-a": "1"}))
    assert {code: row[0] for code, row in stock_of("p1").items()} == {"wh-a": 1, "wh-b": 0, "site": 1}


def test_a_declared_price_type_the_offer_omits_is_removed(catalogue):
    offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "100", "opt": "90"}))
    offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "100"}))
    assert prices_of("p1") == {"retail": Decimal("100.00")}
    # A file that declares no types (a changes file) removes nothing.
    offers_file(offer("p1", prices={"opt": "80"}))
    assert prices_of("p1") == {"retail": Decimal("100.00"), "opt": Decimal("80.00")}


def test_variants_become_children_of_a_parent_product(catalogue):
    # Variants of p1 are not contiguous in the file: they still land under p1.
    offers_file(
        *PRICE_TYPES,
        *WAREHOUSES,
        offer("p1#c-38", name="Кеды (38)", characteristics=[("Размер", "38"), ("Цвет", "Белый")],
              prices={"retail": "2000"}, stocks={"wh-a": "1"}),
        offer("p2", prices={"retail": "900"}, stocks={"wh-a": "2"}),
        offer("p1#c-39", name="Кеды (39)", article="KD-39", characteristics=[("Размер", "39")],
              prices={"retail": "2100"}, stocks={"wh-b": "6"}),
    )  # fmt: skip

    parent = Product.objects.get(code="p1")
    assert parent.structure == Product.PARENT
    assert parent.stockrecords.count() == 0
    children = {child.code: child for child in parent.children.all()}
    assert set(children) == {"p1#c-38", "p1#c-39"}
    assert children["p1#c-39"].structure == Product.CHILD
    assert children["p1#c-39"].title == "Кеды (39)"
    assert children["p1#c-39"].product_class is None
    assert attribute_values("p1#c-38") == {"c_razmer": "38", "c_tsvet": "Белый"}
    assert attribute_values("p1#c-39") == {"c_razmer": "39", "article": "KD-39"}
    assert stock_of("p1#c-39")["site"] == (6, 0, Decimal("2100.00"))
    assert prices_of("p1#c-38") == {"retail": Decimal("2000.00")}


def test_a_standalone_product_that_gets_variants_loses_its_own_stock(catalogue):
    offers_file(*PRICE_TYPES, *WAREHOUSES, offer("p1", prices={"retail": "10"}, stocks={"wh-a": "2"}))
    offers_file(*WAREHOUSES, offer("p1#red", name="Кеды (красные)", stocks={"wh-a": "1"}))

    assert Product.objects.get(code="p1").structure == Product.PARENT
    assert StockRecord.objects.filter(product__code="p1").count() == 0
    # A later bare offer of the parent brings no stock records back.
    offers_file(*WAREHOUSES, offer("p1", stocks={"wh-a": "3"}))
    assert StockRecord.objects.filter(product__code="p1").count() == 0


def test_offer_of_an_unknown_product_is_skipped_with_a_warning(catalogue):
    report = offers_file(
        *PRICE_TYPES,
        offer("ghost", name="Призрак", prices={"retail": "1"}),
        offer("ghost#x", name="Призрак (x)", prices={"retail": "1"}),
        offer("p1", prices={"retail": "5"}),
    )
    assert report.skipped == 2
    assert (
        report.warnings[0]
        == "offers.xml: предложение ghost «Призрак»: товар ghost не найден в каталоге — пропущено"
    )
    assert not Product.objects.filter(code__startswith="ghost").exists()
    assert prices_of("p1") == {"retail": Decimal("5.00")}


def test_unknown_price_type_and_warehouse_warn(catalogue):
    report = offers_file(offer("p1", prices={"nope": "5"}, stocks={"wh-new": "2"}))
    assert any("тип цены nope не описан" in warning for warning in report.warnings)
    assert any("склад wh-new не описан" in warning for warning in report.warnings)
    assert stock_of("p1")["wh-new"][0] == 2


def test_full_offers_package_zeroes_offers_it_does_not_list(catalogue):
    offers_file(*WAREHOUSES, offer("p1", stocks={"wh-a": "2"}), offer("p2", stocks={"wh-a": "3"}))
    offers_file(*WAREHOUSES, offer("p1", stocks={"wh-a": "4"}), changes_only=True)
    assert stock_of("p2")["wh-a"][0] == 3

    offers_file(*WAREHOUSES, offer("p1", stocks={"wh-a": "4"}), changes_only=False)
    assert stock_of("p2") == {"wh-a": (0, 0, None), "site": (0, 0, None)}
    assert stock_of("p1")["site"][0] == 4


def test_a_full_package_zeroes_every_record_of_what_it_left_out_by_their_key(catalogue):
    """The sweep scans once and zeroes the records it found by their key: every warehouse of every offer left out."""
    offers_file(
        *WAREHOUSES,
        offer("p1", stocks={"wh-a": "2", "wh-b": "5"}),
        offer("p2", stocks={"wh-a": "3", "wh-b": "1"}),
        offer("p3", stocks={"wh-a": "1"}),
    )
    offers_file(*WAREHOUSES, offer("p3", stocks={"wh-a": "4"}), changes_only=False)
    nothing = {"wh-a": (0, 0, None), "wh-b": (0, 0, None), "site": (0, 0, None)}
    assert stock_of("p1") == nothing and stock_of("p2") == nothing
    assert stock_of("p3")["wh-a"][0] == 4 and stock_of("p3")["site"][0] == 4


def test_a_sweep_scans_and_joins_whole_tables_then_the_import_prefers_indexes_again(db):
    """
    ``allow_table_scans``: hash joins over whole tables for the end-of-file sweep (with an
    import's stale statistics PostgreSQL otherwise probed an index once per stock
    record), and the import's index-first settings back after it, within the transaction.
    """
    from django.db import connection, transaction

    from integration_1c.services import bulk

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner settings")

    def settings_now():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_nestloop')")
            return cursor.fetchone()

    with transaction.atomic():
        bulk.prefer_indexes()
        assert settings_now() == ("off", "on")
        with bulk.allow_table_scans():
            assert settings_now() == ("on", "off")
        assert settings_now() == ("off", "on")


def test_full_prices_only_package_zeroes_nothing(catalogue):
    offers_file(
        *PRICE_TYPES, *WAREHOUSES, offer("p1", stocks={"wh-a": "2"}), offer("p2", stocks={"wh-a": "3"})
    )
    offers_file(*PRICE_TYPES, offer("p1", prices={"retail": "7"}), changes_only=False)
    assert stock_of("p2")["wh-a"][0] == 3


def test_repeated_offers_give_identical_rows(catalogue):
    records = [
        *PRICE_TYPES,
        *WAREHOUSES,
        offer(
            "p1#s",
            name="Кеды (S)",
            characteristics=[("Размер", "S")],
            prices={"retail": "1"},
            stocks={"wh-a": "1"},
        ),
        offer("p2", prices={"retail": "2", "opt": "1"}, stocks={"wh-a": "1", "wh-b": "2"}),
        offer("p3", quantity="4"),
    ]
    offers_file(*records, changes_only=False)
    first = snapshot()
    offers_file(*records, changes_only=False)
    assert snapshot() == first


def test_catalogue_after_offers_keeps_the_parent_a_parent(catalogue):
    offers_file(*WAREHOUSES, offer("p1#s", name="Кеды (S)", stocks={"wh-a": "1"}))
    apply(product("p1", name="Кеды новые"), changes_only=True)
    item = Product.objects.get(code="p1")
    assert item.structure == Product.PARENT
    assert item.title == "Кеды новые"
    assert item.children.count() == 1


def test_classifier_price_types_and_warehouses_then_split_files(catalogue):
    """3.1: types and warehouses in classifier.xml, prices.xml and rests.xml without them."""
    apply(*PRICE_TYPES, *WAREHOUSES, kind=rec.CLASSIFIER, source="classifier.xml")
    offers_file(offer("p2", prices={"retail": "300"}), source="prices.xml")
    offers_file(offer("p2", stocks={"wh-b": "8"}), source="rests.xml")
    assert stock_of("p2") == {"wh-b": (8, 0, Decimal("300.00")), "site": (8, 0, Decimal("300.00"))}
