"""
The whole catalogue path, as production runs it: the 1C client emulator speaks HTTP to
the exchange view, files land in the exchange storage, a real Celery worker (Redis
broker) applies them, and what the files say is in Oscar where a shopper sees it.
"""

import pytest
from django.test import Client

from integration_1c import conf
from integration_1c.testing.generator import generate_exchange, generate_offer_changes
from integration_1c.testing.emulator import DjangoClientTransport, OneCClient
from integration_1c.models import ExchangeFile, ProductPrice
from integration_1c.services import importer
from oscar.core.loading import get_model

from tests.conftest import EXCHANGE_PASSWORD as PASSWORD
from tests.services.test_services_samples import SAMPLE_SETS, Expected, check_catalogue

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")



@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def one_c(user, **kwargs):
    return OneCClient(DjangoClientTransport(Client()), user.username, PASSWORD, poll_interval=0.05, timeout=120, **kwargs)


def expected_of(plan):
    expected = Expected()
    for path, document in plan.files:
        expected.read(path, document)
    return expected


def reports_of_last_session():
    """The journal's file rows stand in for the importer's reports in check_catalogue."""
    return list(ExchangeFile.objects.filter(state=ExchangeFile.DONE).exclude(kind=""))


@pytest.mark.shared
@pytest.mark.parametrize("name", SAMPLE_SETS)
def test_every_sample_set_over_http_lands_in_the_shop(samples_dir, name, exchange_user, celery_worker):
    folder = samples_dir / name
    plan = importer.plan_folder(folder)
    if not plan.files:
        pytest.skip(f"{name} holds order documents only (type=sale): covered by tests/orders")

    result = one_c(exchange_user).exchange_catalog(folder, files=[path for path, _ in plan.files])

    assert result.ok, result.failures
    sent = {path.name for path, _ in plan.files}
    files = {f.name: f for f in ExchangeFile.objects.filter(name__in=sent)}
    assert set(files) == sent
    assert all(f.state == ExchangeFile.DONE for f in files.values()), [(f.name, f.error) for f in files.values()]
    check_catalogue(expected_of(plan), reports_of_last_session())


@pytest.mark.shared
def test_a_3_1_set_in_fresh_cycles_chunked_without_zip(samples_dir, settings, exchange_user, celery_worker):
    """Real 3.x clients without zip: checkauth -> init -> file (in chunks) -> import for every file."""
    settings.ONEC_USE_ZIP = False
    settings.ONEC_FILE_LIMIT = 4096
    folder = samples_dir / "turumburum-3.1"
    plan = importer.plan_folder(folder)

    result = one_c(exchange_user, version="3.1", per_file_cycle=True).exchange_catalog(
        folder, files=[path for path, _ in plan.files]
    )

    assert result.ok, result.failures
    assert max(f.chunks for f in ExchangeFile.objects.all()) > 1
    check_catalogue(expected_of(plan), reports_of_last_session())


def check_generated(package):
    """Every product, variant, price (by type) and warehouse quantity of a generated package."""
    expected = package.expected()
    products = {p.code: p for p in Product.objects.filter(code__isnull=False).select_related("parent")}
    for product_id in expected["product_ids"]:
        assert products[product_id].is_public, product_id
    for product_id in expected["deleted_ids"]:
        assert not products[product_id].is_public, product_id

    prices = {}
    for code, type_name, value in ProductPrice.objects.values_list("product__code", "price_type__name", "price"):
        prices.setdefault(code, {})[type_name] = value
    stock = {}
    for sku, partner, quantity in StockRecord.objects.values_list("partner_sku", "partner__code", "num_in_stock"):
        stock.setdefault(sku, {})[partner] = quantity
    sales_code = conf.get("ONEC_SALES_PARTNER_CODE")

    for offer_id, offer in expected["offers"].items():
        if expected["products"][offer["product_id"]]["deleted"]:
            continue
        if offer["characteristic_id"]:
            child = products[offer_id]
            assert child.parent.code == offer["product_id"], offer_id
            assert child.structure == Product.CHILD
        for type_name, value in offer["prices"].items():
            assert prices[offer_id][type_name] == value, (offer_id, type_name)
        records = dict(stock[offer_id])
        assert records.pop(sales_code) == sum(offer["stocks"].values()), offer_id
        for warehouse, quantity in offer["stocks"].items():
            assert records.get(warehouse, 0) == quantity, (offer_id, warehouse)


@pytest.mark.parametrize(
    "schema, encoding",
    [("2.08", "utf-8"), ("2.08", "windows-1251"), ("3.1", "utf-8"), ("3.1", "windows-1251")],
)
def test_generated_exchanges_over_http(tmp_path, schema, encoding, exchange_user, celery_worker):
    package = generate_exchange(tmp_path / "full", products=60, schema=schema, encoding=encoding, seed=7)
    client = one_c(exchange_user, version="3.1" if schema == "3.1" else None)

    assert client.exchange_catalog(package).ok
    check_generated(package)
    count = Product.objects.count()

    # The same exchange again (1C repeats it every few minutes): nothing duplicated.
    assert client.exchange_catalog(package).ok
    assert Product.objects.count() == count
    check_generated(package)


def test_changes_only_package_over_http_updates_just_those_offers(tmp_path, exchange_user, celery_worker):
    package = generate_exchange(tmp_path / "full", products=40, seed=3)
    client = one_c(exchange_user)
    assert client.exchange_catalog(package).ok
    stock_before = dict(StockRecord.objects.values_list("id", "num_in_stock"))
    public_before = set(Product.objects.filter(is_public=True).values_list("code", flat=True))

    changes = generate_offer_changes(tmp_path / "changes", base_seed=3, offers=10, products=40)
    assert client.exchange_catalog(changes).ok

    changed = changes.expected()["offers"]
    assert changed
    for offer_id, offer in changed.items():
        stored = dict(StockRecord.objects.filter(partner_sku=offer_id).values_list("partner__code", "num_in_stock"))
        for warehouse, quantity in offer["stocks"].items():
            assert stored.get(warehouse, 0) == quantity, (offer_id, warehouse)
    others = StockRecord.objects.exclude(partner_sku__in=list(changed))
    assert {r.id: r.num_in_stock for r in others} == {r.id: stock_before[r.id] for r in others}
    # A package of changes says nothing about what it does not list: nothing is hidden.
    assert set(Product.objects.filter(is_public=True).values_list("code", flat=True)) == public_before
