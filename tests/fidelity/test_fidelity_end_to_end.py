"""
End to end over HTTP with the 1C client emulator and a real Celery worker: the shapes
real 1C configurations send, as a shopper then sees them.
"""

from datetime import timedelta

import pytest
from django.test import Client
from oscar.core.loading import get_model

from integration_1c.models import Catalogue, CategoryExchange, ExchangeFile, ExchangeSession, ProductExchange
from integration_1c.testing.emulator import DjangoClientTransport, OneCClient
from tests.conftest import EXCHANGE_PASSWORD as PASSWORD
from tests.services.builders import stock_of

from . import cml

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def one_c(user, **kwargs):
    return OneCClient(
        DjangoClientTransport(Client()), user.username, PASSWORD, poll_interval=0.05, timeout=120, **kwargs
    )


def folder_with(tmp_path, name, **files):
    folder = tmp_path / name
    folder.mkdir()
    for file_name, data in files.items():
        (folder / f"{file_name}.xml").write_bytes(data)
    return folder, [folder / f"{file_name}.xml" for file_name in files]


def move_clock_forward(minutes):
    """Everything the exchange stored happened ``minutes`` earlier: the clock moved on."""
    delta = timedelta(minutes=minutes)
    for session in ExchangeSession.objects.all():
        ExchangeSession.objects.filter(pk=session.pk).update(
            started_at=session.started_at - delta, last_seen_at=session.last_seen_at - delta
        )
    for model, field in (
        (ProductExchange, "touched_at"),
        (CategoryExchange, "touched_at"),
        (Catalogue, "full_import_started_at"),
        (Product, "date_updated"),
    ):
        for pk, value in model.objects.exclude(**{f"{field}__isnull": True}).values_list("pk", field):
            model.objects.filter(pk=pk).update(**{field: value - delta})


def test_ut10_catalogue_with_characteristics_as_items(tmp_path, exchange_user, celery_worker):
    folder, files = folder_with(
        tmp_path, "ut10", import0_1=cml.ut10_catalogue("2.03"), offers0_1=cml.ut10_offers("2.03")
    )

    result = one_c(exchange_user).exchange_catalog(folder, files=files)

    assert result.ok, result.failures
    assert all(f.state == ExchangeFile.DONE for f in ExchangeFile.objects.all())
    parent = Product.objects.get(code="tshirt")
    assert parent.structure == Product.PARENT and parent.title == "Футболка" and parent.is_public
    assert Product.objects.filter(parent=parent, is_public=True).count() == 3
    assert stock_of("tshirt#blue-m")["site"] == (7, 0, 1500)
    offers_file = ExchangeFile.objects.get(name="offers0_1.xml")
    assert offers_file.skipped == 0
    assert not [w for w in offers_file.warnings if "не найден" in w]


def test_3_1_offers_only_run_then_deactivate_later_hides_nothing(tmp_path, exchange_user, celery_worker):
    full, full_files = folder_with(
        tmp_path, "full", import0_1=cml.ut10_catalogue("3.1"), offers0_1=cml.ut10_offers("3.1")
    )
    assert one_c(exchange_user, version="3.1").exchange_catalog(full, files=full_files).ok
    visible = set(Product.objects.filter(is_public=True).values_list("code", flat=True))
    assert {"tshirt", "cap", "tshirt#red-m"} <= visible

    move_clock_forward(minutes=10)
    offers_only, offers_files = folder_with(tmp_path, "offers", offers0_1=cml.ut10_offers("3.1"))
    result = one_c(exchange_user, version="3.1").exchange_catalog(offers_only, files=offers_files)

    assert result.ok, result.failures
    assert set(Product.objects.filter(is_public=True).values_list("code", flat=True)) == visible
    assert Category.objects.get(code="g1").is_public


def test_3_1_full_run_later_hides_what_it_left_out(tmp_path, exchange_user, celery_worker):
    first, first_files = folder_with(tmp_path, "first", import0_1=cml.ut10_catalogue("3.1"))
    assert one_c(exchange_user, version="3.1").exchange_catalog(first, files=first_files).ok
    move_clock_forward(minutes=30)
    without_cap = cml.ut10_catalogue("3.1").replace(
        cml.product("cap", "Кепка").encode(), b""
    )
    second, second_files = folder_with(tmp_path, "second", import0_1=without_cap)

    result = one_c(exchange_user, version="3.1").exchange_catalog(second, files=second_files)

    assert result.ok, result.failures
    assert Product.objects.get(code="cap").is_public is False
    assert Product.objects.get(code="tshirt").is_public is True


def test_two_catalogues_in_one_shop_each_full_package_touches_only_its_own(
    tmp_path, exchange_user, celery_worker
):
    def package(catalogue_id, products, offers):
        return {
            "import0_1": cml.document(
                cml.catalogue(*products, catalogue_id=catalogue_id, classifier_id=f"cl-{catalogue_id}",
                              groups=((f"g-{catalogue_id}", f"Группа {catalogue_id}"),))
            ),
            "offers0_1": cml.document(cml.offers(*offers, catalogue_id=catalogue_id, classifier_id=f"cl-{catalogue_id}")),
        }  # fmt: skip

    a_products = [cml.product("a1", "Товар А1", group="g-A"), cml.product("a2", "Товар А2", group="g-A")]
    a_offers = [cml.offer("a1", 100, 5), cml.offer("a2", 200, 6)]
    b_products = [cml.product("b1", "Товар Б1", group="g-B")]
    b_offers = [cml.offer("b1", 300, 7)]
    for name, files in (("A", package("A", a_products, a_offers)), ("B", package("B", b_products, b_offers))):
        folder, paths = folder_with(tmp_path, name, **files)
        assert one_c(exchange_user).exchange_catalog(folder, files=paths).ok
        move_clock_forward(minutes=10)

    # Node A again, without a2: only A's a2 is hidden; B's product, group and stock stay.
    folder, paths = folder_with(tmp_path, "A-again", **package("A", a_products[:1], a_offers[:1]))
    result = one_c(exchange_user).exchange_catalog(folder, files=paths)

    assert result.ok, result.failures
    assert Product.objects.get(code="a2").is_public is False
    assert stock_of("a2")["wh"][0] == 0
    assert Product.objects.get(code="b1").is_public is True
    assert stock_of("b1")["wh"][0] == 7
    assert Category.objects.get(code="g-B").is_public is True
    assert dict(ProductExchange.objects.values_list("product__code", "catalogue")) == {
        "a1": "A", "a2": "A", "b1": "B",
    }  # fmt: skip
