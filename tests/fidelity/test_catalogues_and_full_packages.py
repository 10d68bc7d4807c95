"""
Several 1C catalogues in one shop, the full-package rule (conf
``ONEC_FULL_PACKAGE_MISSING``) and ``mode=deactivate``'s notion of "touched".
"""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from django.utils import timezone

from integration_1c.models import Catalogue, CategoryExchange, ProductExchange
from integration_1c.services import importer
from integration_1c.services.catalogue import deactivate_untouched, full_package_missing
from tests.services.builders import Category, Product, stock_of

from . import cml

pytestmark = pytest.mark.django_db


def apply_bytes(tmp_path, name, data, **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    return importer.apply_path(path, **kwargs)


def catalogue_file(catalogue_id, *codes, version="2.08", full=True):
    return cml.document(
        cml.catalogue(
            *(cml.product(code, f"Товар {code}", group=f"g-{catalogue_id}") for code in codes),
            catalogue_id=catalogue_id,
            classifier_id=f"cl-{catalogue_id}",
            groups=((f"g-{catalogue_id}", f"Группа {catalogue_id}"),),
            full=full,
        ),
        version=version,
    )


def offers_file(catalogue_id, *codes, version="2.08", full=True):
    return cml.document(
        cml.offers(
            *(cml.offer(code, 100, 5, version=version) for code in codes),
            catalogue_id=catalogue_id,
            classifier_id=f"cl-{catalogue_id}",
            full=full,
        ),
        version=version,
    )


def age_everything(hours=1):
    """Make what was imported so far look written ``hours`` ago (an earlier run)."""
    delta = timedelta(hours=hours)
    for model, field in (
        (ProductExchange, "touched_at"),
        (CategoryExchange, "touched_at"),
        (Catalogue, "full_import_started_at"),
        (Product, "date_updated"),
    ):
        for pk, value in model.objects.exclude(**{f"{field}__isnull": True}).values_list("pk", field):
            model.objects.filter(pk=pk).update(**{field: value - delta})


def public(code):
    return Product.objects.get(code=code).is_public


@pytest.mark.parametrize("version", ["2.03", "2.08", "3.1"])
def test_a_full_catalogue_hides_only_within_its_own_catalogue(tmp_path, version):
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2", version=version))
    apply_bytes(tmp_path, "b.xml", catalogue_file("B", "b1", version=version))
    age_everything()

    report = apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", version=version))

    assert report.hidden == 1
    assert (public("a1"), public("a2"), public("b1")) == (True, False, True)
    assert Category.objects.get(code="g-B").is_public is True
    assert dict(ProductExchange.objects.values_list("product__code", "catalogue")) == {
        "a1": "A", "a2": "A", "b1": "B",
    }  # fmt: skip
    assert set(Catalogue.objects.values_list("code", "classifier_code")) == {("A", "cl-A"), ("B", "cl-B")}


@pytest.mark.parametrize("version", ["2.08", "3.1"])
def test_a_full_offers_package_zeroes_stock_only_within_its_catalogue(tmp_path, version):
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2", version=version))
    apply_bytes(tmp_path, "b.xml", catalogue_file("B", "b1", version=version))
    apply_bytes(tmp_path, "oa.xml", offers_file("A", "a1", "a2", version=version))
    apply_bytes(tmp_path, "ob.xml", offers_file("B", "b1", version=version))

    apply_bytes(tmp_path, "oa.xml", offers_file("A", "a1", version=version))

    assert stock_of("a1")["wh"][0] == 5
    assert stock_of("a2")["wh"][0] == 0
    assert stock_of("b1")["wh"][0] == 5


def test_products_imported_before_catalogues_were_told_apart_belong_to_any(tmp_path):
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "old", "a1"))
    ProductExchange.objects.all().delete()  # as the migration leaves an older shop
    age_everything()

    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1"))

    assert public("old") is False
    assert ProductExchange.objects.get(product__code="a1").catalogue == "A"


def test_keep_leaves_unlisted_products_as_they_are(tmp_path, settings):
    settings.ONEC_FULL_PACKAGE_MISSING = "keep"
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2"))
    apply_bytes(tmp_path, "oa.xml", offers_file("A", "a1", "a2"))
    age_everything()

    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1"))
    apply_bytes(tmp_path, "oa.xml", offers_file("A", "a1"))

    assert public("a2") is True
    assert stock_of("a2")["wh"][0] == 5


def test_zero_keeps_unlisted_products_visible_without_stock(tmp_path, settings):
    settings.ONEC_FULL_PACKAGE_MISSING = "zero"
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2"))
    apply_bytes(tmp_path, "oa.xml", offers_file("A", "a1", "a2"))
    age_everything()

    report = apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1"))

    assert report.hidden == 1
    assert public("a2") is True
    assert stock_of("a2")["wh"][0] == 0
    assert stock_of("a2")["site"][0] == 0
    assert stock_of("a1")["site"][0] == 5


def test_an_unknown_policy_falls_back_to_hiding(settings):
    settings.ONEC_FULL_PACKAGE_MISSING = "destroy"
    assert full_package_missing() == "hide"


@pytest.mark.parametrize(("old", "new", "expected"), [("false", None, "keep"), ("true", None, "hide"), ("false", "zero", "zero")])
def test_the_old_setting_still_gives_the_default(old, new, expected):
    env = {**os.environ, "ONEC_HIDE_MISSING_ON_FULL": old, "DJANGO_SETTINGS_MODULE": "shop.settings"}
    env.pop("ONEC_FULL_PACKAGE_MISSING", None)
    if new:
        env["ONEC_FULL_PACKAGE_MISSING"] = new
    code = "import django; django.setup(); from django.conf import settings; print(settings.ONEC_FULL_PACKAGE_MISSING)"
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=django_settings.BASE_DIR
    ).stdout
    assert output.strip().splitlines()[-1] == expected


def test_a_catalogue_sent_as_several_files_of_one_run_hides_nothing_the_other_listed(tmp_path):
    start = timezone.now()
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2"))
    age_everything()
    run = timezone.now()

    apply_bytes(tmp_path, "import0_1.xml", catalogue_file("A", "a1"), since=run)
    apply_bytes(tmp_path, "import0_2.xml", catalogue_file("A", "a2"), since=run)

    assert public("a1") and public("a2")
    assert start < run


def test_deactivate_never_hides_what_an_offer_of_the_run_touched(tmp_path):
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2", "a3"))
    age_everything()
    since = timezone.now()
    with override_settings(ONEC_FULL_PACKAGE_MISSING="keep"):
        apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1"))
    apply_bytes(tmp_path, "prices.xml", offers_file("A", "a2", full=False))

    products, _ = deactivate_untouched(since)

    assert products == 1
    assert (public("a1"), public("a2"), public("a3")) == (True, True, False)


def test_offers_stamp_only_products_the_run_has_not_stamped_and_deactivate_keeps_both(tmp_path):
    """
    The catalogue file of a run stamps what it lists; its offers file does not stamp those
    again (100,000 rewrites of a full package) but does stamp a product only the offers
    name — and ``mode=deactivate`` keeps all of them, hides the rest.
    """
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2", "a3"))
    age_everything()
    run = timezone.now()
    with override_settings(ONEC_FULL_PACKAGE_MISSING="keep"):
        apply_bytes(tmp_path, "import.xml", catalogue_file("A", "a1"), since=run)
    stamped = ProductExchange.objects.get(product__code="a1").touched_at
    aged = ProductExchange.objects.get(product__code="a2").touched_at
    assert stamped >= run > aged

    apply_bytes(tmp_path, "offers.xml", offers_file("A", "a1", "a2", full=False), since=run)

    touched = dict(ProductExchange.objects.values_list("product__code", "touched_at"))
    assert touched["a1"] == stamped  # stamped by this run's catalogue file: left alone
    assert touched["a2"] > stamped  # named by the offers alone: stamped now
    assert deactivate_untouched(run)[0] == 1
    assert (public("a1"), public("a2"), public("a3")) == (True, True, False)


def test_deactivate_only_in_catalogues_a_full_package_of_the_run_imported(tmp_path):
    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2"))
    apply_bytes(tmp_path, "b.xml", catalogue_file("B", "b1"))
    age_everything()
    since = timezone.now()
    with override_settings(ONEC_FULL_PACKAGE_MISSING="keep"):
        apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1"))
    apply_bytes(tmp_path, "b.xml", catalogue_file("B", "b1", full=False) .replace(b"b1", b"b2"))

    deactivate_untouched(since)

    assert (public("a1"), public("a2"), public("b1"), public("b2")) == (True, False, True, True)


@pytest.mark.parametrize("policy", ["hide", "zero"])
def test_deactivate_takes_what_it_hid_or_zeroed_off_the_storefront(tmp_path, policy):
    """The listing rows follow ``mode=deactivate`` at once: no hidden product stays listed, no zeroed one for sale."""
    from shop.apps.search.models import ProductListing

    apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1", "a2", "a3"))
    apply_bytes(tmp_path, "offers.xml", offers_file("A", "a1", "a2", "a3"))
    listed = dict(ProductListing.objects.values_list("product__code", "in_stock"))
    assert listed == {"a1": True, "a2": True, "a3": True}
    age_everything()
    since = timezone.now()
    with override_settings(ONEC_FULL_PACKAGE_MISSING="keep"):
        apply_bytes(tmp_path, "a.xml", catalogue_file("A", "a1"))
    apply_bytes(tmp_path, "prices.xml", offers_file("A", "a2", full=False))

    with override_settings(ONEC_FULL_PACKAGE_MISSING=policy):
        products, _ = deactivate_untouched(since)

    assert products == 1
    listed = dict(ProductListing.objects.values_list("product__code", "in_stock"))
    if policy == "hide":
        assert listed == {"a1": True, "a2": True}
    else:
        assert listed == {"a1": True, "a2": True, "a3": False}
