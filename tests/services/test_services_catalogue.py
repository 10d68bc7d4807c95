"""Groups, properties and products from hand-built records into Oscar's catalogue."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from integration_1c.commerceml import records as rec
from integration_1c.models import Catalogue, CategoryExchange, ProductExchange
from integration_1c.services.catalogue import deactivate_untouched

from .builders import Category, Product, apply, attribute_values, product, snapshot

pytestmark = pytest.mark.django_db

GROUPS = [
    rec.Group(id="g-tools", name="Инструменты"),
    rec.Group(id="g-drills", name="Дрели и шуруповёрты", parent_id="g-tools"),
    rec.Group(id="g-cordless", name="Аккумуляторные", parent_id="g-drills"),
    rec.Group(id="g-garden", name="Сад"),
]
PROPERTIES = [
    rec.Property(
        id="brand-id", name="Бренд", value_type="reference", options=[("b-1", "Bosch"), ("b-2", "Makita")]
    ),
    rec.Property(id="power-id", name="Мощность, Вт", value_type="number"),
    rec.Property(id="note-id", name="Примечание"),
]


def drill(**changes):
    fields = dict(
        name="Дрель ударная",
        article="DR-1",
        barcode="4600000000017",
        description="<p>Мощная</p>",
        unit_code="796",
        unit_name="шт",
        group_ids=["g-cordless"],
        properties=[("brand-id", "b-2"), ("power-id", "1 200,5"), ("note-id", "С кейсом")],
        requisites={"Полное наименование": "Дрель ударная аккумуляторная"},
    )
    fields.update(changes)
    return product("p-drill", **fields)


def category(code):
    return Category.objects.get(code=code)


def ancestors(code):
    return [node.code for node in Category.objects.get_ancestors(category(code))]


def parent(code):
    return Category.objects.get_parent(category(code)).code


def test_groups_become_a_category_tree_at_any_depth():
    report = apply(*GROUPS)

    assert report.created == 4
    assert category("g-cordless").depth == 3
    assert ancestors("g-cordless") == ["g-tools", "g-drills"]
    assert category("g-drills").slug == "dreli-i-shurupoviorty"
    assert category("g-tools").numchild == 1
    assert Category.objects.find_problems() == ([], [], [], [], [])
    assert CategoryExchange.objects.count() == 4


def test_renamed_and_moved_group_follow_1c():
    apply(*GROUPS)
    apply(
        rec.Group(id="g-tools", name="Инструмент"),
        rec.Group(id="g-garden", name="Сад"),
        rec.Group(id="g-drills", name="Дрели", parent_id="g-garden"),
        rec.Group(id="g-cordless", name="Аккумуляторные", parent_id="g-drills"),
        changes_only=True,
    )

    assert category("g-tools").name == "Инструмент"
    assert parent("g-drills") == "g-garden"
    assert ancestors("g-cordless") == ["g-garden", "g-drills"]
    assert category("g-tools").numchild == 0
    assert category("g-garden").numchild == 1
    assert Category.objects.find_problems() == ([], [], [], [], [])


def test_group_moved_to_the_top_level():
    apply(*GROUPS)
    apply(rec.Group(id="g-cordless", name="Аккумуляторные"), changes_only=True)
    assert category("g-cordless").depth == 1
    assert category("g-drills").numchild == 0
    assert Category.objects.find_problems() == ([], [], [], [], [])


def test_deleted_group_is_hidden_with_its_subtree_never_deleted():
    apply(*GROUPS)
    report = apply(
        rec.Group(id="g-drills", name="Дрели", parent_id="g-tools", deleted=True), changes_only=True
    )

    assert report.hidden == 1
    assert category("g-drills").is_public is False
    assert category("g-cordless").is_public is True
    assert category("g-cordless").ancestors_are_public is False
    assert Category.objects.count() == 4


def test_full_classifier_hides_groups_it_does_not_list_changes_only_does_not():
    apply(*GROUPS)
    apply(*GROUPS[:3], changes_only=True)
    assert category("g-garden").is_public is True

    report = apply(*GROUPS[:3], kind=rec.CLASSIFIER, changes_only=False)
    assert report.hidden == 1
    assert category("g-garden").is_public is False

    apply(*GROUPS, kind=rec.CLASSIFIER)
    assert category("g-garden").is_public is True


def test_a_full_catalogue_without_groups_hides_no_groups():
    apply(*GROUPS)
    apply(drill(group_ids=["g-tools"]))
    assert Category.objects.filter(is_public=False).count() == 0


def test_products_land_with_categories_and_attributes():
    report = apply(*GROUPS, *PROPERTIES, drill())

    item = Product.objects.get(code="p-drill")
    assert report.created == 5
    assert item.title == "Дрель ударная"
    assert item.slug == "drel-udarnaia"
    assert item.description == "<p>Мощная</p>"
    assert item.structure == Product.STANDALONE
    assert item.is_public is True
    assert item.product_class.name == "Товар"
    assert item.product_class.track_stock is True
    assert [c.code for c in item.categories.all()] == ["g-cordless"]
    assert attribute_values("p-drill") == {
        "article": "DR-1",
        "barcode": "4600000000017",
        "unit": "шт",
        "full_name": "Дрель ударная аккумуляторная",
        "p_brand_id": "Makita",
        "p_power_id": 1200.5,
        "p_note_id": "С кейсом",
    }


def test_repeated_import_gives_identical_rows():
    records = [*GROUPS, *PROPERTIES, drill(), product("p-saw", group_ids=["g-tools", "g-garden"])]
    apply(*records)
    first = snapshot()

    report = apply(*records)

    assert snapshot() == first
    assert report.created == 0
    assert report.updated == 4 + 2
    assert Product.objects.count() == 2


def test_changed_product_replaces_categories_and_attribute_values():
    apply(*GROUPS, *PROPERTIES, drill())
    apply(
        drill(
            name="Дрель",
            article="",
            group_ids=["g-garden", "g-tools"],
            properties=[("brand-id", "Bosch")],
        ),
        changes_only=True,
    )

    item = Product.objects.get(code="p-drill")
    assert item.title == "Дрель"
    assert sorted(c.code for c in item.categories.all()) == ["g-garden", "g-tools"]
    values = attribute_values("p-drill")
    assert "article" not in values
    assert values["p_brand_id"] == "Bosch"  # a value sent as text finds its option too
    assert "p_power_id" not in values and "p_note_id" not in values


def test_manager_attributes_are_left_alone():
    from oscar.core.loading import get_model

    ProductAttribute = get_model("catalogue", "ProductAttribute")
    apply(*PROPERTIES, drill())
    item = Product.objects.get(code="p-drill")
    season = ProductAttribute.objects.create(product_class=item.product_class, code="season", name="Сезон")
    item.attribute_values.create(attribute=season, value_text="Лето")

    apply(drill(properties=[]))

    assert attribute_values("p-drill")["season"] == "Лето"


def test_deleted_product_is_hidden_not_removed():
    apply(drill())
    report = apply(drill(deleted=True), changes_only=True)
    assert report.hidden == 1
    assert Product.objects.get(code="p-drill").is_public is False


def test_full_catalogue_hides_products_it_does_not_list(settings):
    apply(drill(), product("p-saw"))
    apply(drill(), changes_only=True)
    assert Product.objects.get(code="p-saw").is_public is True

    report = apply(drill())
    assert report.hidden == 1
    assert Product.objects.get(code="p-saw").is_public is False

    apply(product("p-saw"), changes_only=True)
    assert Product.objects.get(code="p-saw").is_public is True

    settings.ONEC_FULL_PACKAGE_MISSING = "keep"
    apply(drill())
    assert Product.objects.get(code="p-saw").is_public is True


def test_a_full_package_split_into_files_hides_nothing_its_files_listed():
    apply(*GROUPS, drill(), product("p-saw"), product("p-old"))
    run_started = timezone.now()

    apply(GROUPS[0], drill(), listed_since=run_started, source="import0_1.xml")
    apply(GROUPS[3], product("p-saw"), listed_since=run_started, source="import0_2.xml")

    assert set(Product.objects.filter(is_public=True).values_list("code", flat=True)) == {"p-drill", "p-saw"}
    assert set(Category.objects.filter(is_public=True).values_list("code", flat=True)) == {
        "g-tools",
        "g-garden",
    }


def test_full_catalogue_never_hides_products_of_others_or_variants():
    from oscar.test.factories import ProductFactory

    own = ProductFactory(code=None, title="Товар магазина")
    apply(drill())
    apply(product("p-saw"))
    own.refresh_from_db()
    assert own.is_public is True


def test_unknown_property_and_group_give_warnings_not_errors():
    report = apply(drill(group_ids=["nope"], properties=[("missing-prop", "x"), ("missing-prop", "y")]))
    assert Product.objects.filter(code="p-drill").exists()
    assert any("свойство missing-prop не описано" in warning for warning in report.warnings)
    assert any("группа nope не найдена" in warning for warning in report.warnings)
    assert sum("missing-prop" in warning for warning in report.warnings) == 1
    assert all(warning.startswith("import.xml: ") for warning in report.warnings)


def test_units_sent_by_reference_in_another_file():
    apply(rec.Unit(id="2009", code="2009", name="шт", full_name="Штука"), kind=rec.CLASSIFIER)
    apply(drill(unit_code="2009", unit_name=""))
    assert attribute_values("p-drill")["unit"] == "шт"


def test_option_texts_stay_unique_and_renames_follow():
    apply(
        rec.Property(
            id="color", name="Цвет", value_type="reference", options=[("c1", "Красный"), ("c2", "Красный")]
        ),
        product("p1", properties=[("color", "c1")]),
        product("p2", properties=[("color", "c2")]),
    )
    assert attribute_values("p1")["p_color"] == "Красный"
    assert attribute_values("p2")["p_color"] == "Красный (2)"

    apply(
        rec.Property(
            id="color", name="Цвет", value_type="reference", options=[("c1", "Синий"), ("c2", "Красный")]
        ),
        kind=rec.CLASSIFIER,
        changes_only=True,
    )
    assert attribute_values("p1")["p_color"] == "Синий"
    assert attribute_values("p2")["p_color"] == "Красный"


def test_deactivate_hides_what_a_full_package_of_the_run_did_not_touch():
    apply(*GROUPS, drill(), product("p-saw"))
    past = timezone.now()
    Product.objects.update(date_updated=past - timedelta(hours=1))
    ProductExchange.objects.update(touched_at=past - timedelta(hours=1))
    CategoryExchange.objects.update(touched_at=past - timedelta(hours=1))
    with override_settings(ONEC_FULL_PACKAGE_MISSING="keep"):  # hidden by deactivate, not the file
        apply(GROUPS[0], GROUPS[1], GROUPS[2], drill(), changes_only=False)
    assert Product.objects.get(code="p-saw").is_public is True

    hidden = deactivate_untouched(past)

    assert hidden == (1, 0)  # the full classifier already hid the group it left out
    assert Product.objects.get(code="p-saw").is_public is False
    assert Product.objects.get(code="p-drill").is_public is True
    assert category("g-garden").is_public is False
    assert category("g-tools").is_public is True


def test_deactivate_after_a_run_of_changes_only_hides_nothing():
    apply(*GROUPS, drill(), product("p-saw"))
    past = timezone.now()
    Product.objects.update(date_updated=past - timedelta(hours=1))
    ProductExchange.objects.update(touched_at=past - timedelta(hours=1))
    CategoryExchange.objects.update(touched_at=past - timedelta(hours=1))
    Catalogue.objects.update(full_import_started_at=past - timedelta(hours=1))
    apply(GROUPS[0], drill(), changes_only=True)

    assert deactivate_untouched(past) == (0, 0)
    assert Product.objects.get(code="p-saw").is_public is True
    assert category("g-garden").is_public is True


def test_oscars_category_hierarchy_view_is_refreshed(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the materialised view exists on PostgreSQL only")
    settings.OSCAR_CATALOGUE_USE_POSTGRES_MATERIALISED_VIEWS = True
    apply(*GROUPS, drill())
    item = Product.objects.get(code="p-drill")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT category_id FROM catalogue_product_category_hierarchy WHERE product_id = %s", [item.pk]
        )
        in_view = {row[0] for row in cursor.fetchall()}
    assert in_view == {category(code).pk for code in ("g-tools", "g-drills", "g-cordless")}


def test_report_keeps_a_bounded_number_of_warnings():
    from integration_1c.services.report import MAX_WARNINGS, ImportReport

    report = ImportReport(source="offers.xml")
    for n in range(MAX_WARNINGS + 5):
        report.warn(f"предупреждение {n}")
    assert len(report.warnings) == MAX_WARNINGS
    assert report.warnings[0] == "offers.xml: предупреждение 0"
    assert report.all_warnings()[-1] == "… и ещё 5 предупреждений"
