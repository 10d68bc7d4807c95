"""
The listing rows the import refreshes are exactly what a rebuild from Oscar's tables
gives: after a full exchange, and after a changes-only package of offers, which takes
the stock-only refresh (price, availability, warehouses) on PostgreSQL.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from integration_1c.services import importer
from integration_1c.testing.generator import generate_exchange, generate_offer_changes
from shop.apps.search import indexing
from shop.apps.search.models import ProductDocument, ProductFacet, ProductListing

from .conftest import listing_rows

pytestmark = pytest.mark.django_db

MODEL = {"products": 40, "variant_share": 0.25, "variants": (2, 3), "warehouses": 3}
WHEN = datetime(2026, 11, 30, 12, 0, 0)


def apply(exchange):
    for path in exchange.files:
        importer.apply_path(path, base_dir=exchange.dir)


def rebuilt():
    ProductDocument.objects.all().delete()
    ProductListing.objects.all().delete()
    ProductFacet.objects.all().delete()
    indexing.rebuild_all()
    return listing_rows()


def test_a_full_exchange_then_changes_give_the_rows_a_rebuild_gives(tmp_path, monkeypatch):
    apply(generate_exchange(tmp_path / "full", seed=7, images=False, generated_at=WHEN, **MODEL))
    after_full = listing_rows()
    assert after_full[1] and any(listing[7] for listing in after_full[1])
    assert rebuilt() == after_full

    stock_batches, sweeps = [], []
    light, sweep = indexing._refresh_stock_batch, indexing.drop_unlisted
    monkeypatch.setattr(indexing, "_refresh_stock_batch", lambda ids: (stock_batches.append(ids), light(ids)))
    monkeypatch.setattr(indexing, "drop_unlisted", lambda: (sweeps.append(True), sweep())[1])
    changes = generate_offer_changes(tmp_path / "changes", base_seed=7, offers=15, change_seed=3, generated_at=WHEN, **MODEL)
    apply(changes)
    after_changes = listing_rows()
    assert stock_batches, "a changes-only package takes the stock-only refresh"
    assert not sweeps, "a changes-only package refreshes what it wrote, it reads no other listing row"
    assert after_changes != after_full  # the package changed prices or stock
    assert rebuilt() == after_changes


def test_a_changes_package_that_hides_and_shows_offers_gives_the_rows_a_rebuild_gives(tmp_path, monkeypatch):
    """
    CML2_ACTIVE in a package of changes, with the same price and stock (no stock record
    is written): the product leaves the listing and comes back, with no sweep of the
    whole listing (only a full package sweeps).
    """
    from tests.fidelity import cml

    def offers(active_cap, active_red):
        flag = lambda value: cml.property_values(("CML2_ACTIVE", value))  # noqa: E731
        return cml.document(
            cml.offers(
                cml.offer("tshirt#red-m", 1500, 3, name="Футболка (Красный, M)", extra=flag(active_red)),
                cml.offer("tshirt#blue-m", 1500, 3, name="Футболка (Синий, M)"),
                cml.offer("cap", 900, 2, name="Кепка", extra=flag(active_cap)),
                full=False,
            )
        )

    def apply_bytes(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        importer.apply_path(path)

    apply_bytes("import.xml", cml.ut10_catalogue(with_product=True))
    apply_bytes("offers.xml", offers("true", "true"))
    listed = {row[0] for row in listing_rows()[1]}
    assert rebuilt() == listing_rows()

    swept = []
    monkeypatch.setattr(indexing, "drop_unlisted", lambda: swept.append(True))
    apply_bytes("offers.xml", offers("false", "false"))
    hidden = listing_rows()
    assert swept == []
    assert {row[0] for row in hidden[1]} < listed  # the cap left the listing
    monkeypatch.undo()
    assert rebuilt() == hidden

    monkeypatch.setattr(indexing, "drop_unlisted", lambda: swept.append(True))
    apply_bytes("offers.xml", offers("true", "true"))
    shown = listing_rows()
    assert swept == []
    assert {row[0] for row in shown[1]} == listed
    monkeypatch.undo()
    assert rebuilt() == shown


def test_a_full_package_that_leaves_a_product_out_drops_its_row(tmp_path):
    """Products a full package hides for not listing them are found by the sweep of every row."""
    from tests.fidelity import cml

    def apply_bytes(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        importer.apply_path(path)

    apply_bytes("import.xml", cml.document(cml.catalogue(cml.product("kettle", "Чайник"), cml.product("iron", "Утюг"))))
    apply_bytes("offers.xml", cml.document(cml.offers(cml.offer("kettle", 900, 2), cml.offer("iron", 1900, 1))))
    assert len(listing_rows()[1]) == 2

    apply_bytes("import.xml", cml.document(cml.catalogue(cml.product("kettle", "Чайник"))))
    rows = listing_rows()
    assert [row[1] for row in rows[1]] == ["Чайник"]
    assert rebuilt() == rows


@pytest.mark.parametrize("what", ["offers", "catalogue"])
def test_stock_a_full_package_zeroes_reaches_the_listing_rows(tmp_path, settings, what):
    """
    Stock zeroed in bulk — the offers a full offers package leaves out, or the products a
    full catalogue leaves out under ``ONEC_FULL_PACKAGE_MISSING=zero`` — is found by the
    listing refresh through the products the import recorded (no index on the records'
    stamp), and gives the rows a rebuild gives.
    """
    from tests.fidelity import cml

    settings.ONEC_FULL_PACKAGE_MISSING = "zero"

    def apply_bytes(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        importer.apply_path(path)

    both = (cml.product("kettle", "Чайник"), cml.product("iron", "Утюг"))
    apply_bytes("import.xml", cml.document(cml.catalogue(*both)))
    apply_bytes("offers.xml", cml.document(cml.offers(cml.offer("kettle", 900, 2), cml.offer("iron", 1900, 1))))
    assert [row[3] for row in listing_rows()[1]] == [True, True]

    if what == "offers":
        apply_bytes("offers.xml", cml.document(cml.offers(cml.offer("kettle", 900, 2))))
    else:
        apply_bytes("import.xml", cml.document(cml.catalogue(both[0])))
    rows = listing_rows()
    assert sorted((row[1], row[3]) for row in rows[1]) == [("Утюг", False), ("Чайник", True)]
    assert rebuilt() == rows


def test_stock_that_moves_without_emptying_refreshes_no_listing_row(tmp_path, monkeypatch):
    """
    A package of rests that changes quantities but empties no warehouse changes nothing a
    listing row shows: no row is refreshed. One that empties a warehouse, or a new price,
    refreshes that product's row; every step gives the rows a rebuild gives.
    """
    from tests.fidelity import cml

    def apply_bytes(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        importer.apply_path(path)

    def changes(*offers):
        apply_bytes("offers.xml", cml.document(cml.offers(*offers, full=False)))

    both = (cml.product("kettle", "Чайник"), cml.product("iron", "Утюг"))
    apply_bytes("import.xml", cml.document(cml.catalogue(*both)))
    apply_bytes("offers.xml", cml.document(cml.offers(cml.offer("kettle", 900, 2), cml.offer("iron", 1900, 1))))
    ids = dict(ProductListing.objects.values_list("title", "product_id"))

    refreshed = []
    light = indexing._refresh_stock_batch
    monkeypatch.setattr(indexing, "_refresh_stock_batch", lambda batch: (refreshed.extend(batch), light(batch)))

    changes(cml.offer("kettle", 900, 5), cml.offer("iron", 1900, 3))
    assert refreshed == []
    rows = listing_rows()
    assert rebuilt() == rows

    changes(cml.offer("kettle", 900, 0), cml.offer("iron", 1900, 4))
    assert refreshed == [ids["Чайник"]]
    assert not ProductListing.objects.get(product_id=ids["Чайник"]).in_stock
    rows = listing_rows()
    assert rebuilt() == rows

    refreshed.clear()
    changes(cml.offer("kettle", 900, 0), cml.offer("iron", 1790, 4))
    assert refreshed == [ids["Утюг"]]
    assert ProductListing.objects.get(product_id=ids["Утюг"]).price == 1790
    rows = listing_rows()
    assert rebuilt() == rows


def _reads(plan, table):
    """How the plan reads ``table``: each scan node's line with the condition under it."""
    lines = plan.splitlines()
    reads = []
    for index, line in enumerate(lines):
        if f" on {table} " in line and "Scan" in line:
            condition = next(
                (other.strip() for other in lines[index + 1 : index + 4] if "Cond:" in other or "Filter:" in other), ""
            )
            reads.append(f"{line.strip()} | {condition}")
    return reads


def test_a_refresh_reads_the_facet_and_purchase_tables_by_index_whatever_plan_the_database_picks(catalogue):
    """
    During an import the statistics lag far behind the tables. Joined to the batch's
    stale facets by their key, the facet table was hashed whole for every batch (80 ms a
    batch at 100,000 products); joined to the products, the purchase counts would be too.
    With joins other than nested loops and whole-table scans discouraged, both tables are
    still read by key.
    """
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    ids = list(ProductListing.objects.values_list("product_id", flat=True))
    assert ids and ProductFacet.objects.exists()
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
        for discouraged in (None, "enable_seqscan"):
            if discouraged:
                cursor.execute(f"SET LOCAL {discouraged} = off")
            cursor.execute("EXPLAIN " + indexing._REFRESH_SQL, indexing._refresh_params(ids))
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    for plan in plans:
        facets, purchases = _reads(plan, "search_productfacet"), _reads(plan, "analytics_productrecord")
        assert facets and all("Index Cond:" in read or "Recheck Cond:" in read for read in facets), facets
        assert any("Cond: (id = ANY" in read for read in facets), facets
        assert purchases and all("Index Cond: (product_id = " in read for read in purchases), purchases


def test_a_refresh_replaces_a_changed_number_and_keeps_the_facets_that_still_hold(catalogue):
    """The facet rows a batch no longer wants go (and only they), whatever else the batch holds."""
    from .conftest import set_number

    power, makita, bosch = catalogue["power"], catalogue["makita"], catalogue["bosch"]
    kept = set(ProductFacet.objects.filter(product=bosch).values_list("id", flat=True))
    assert kept
    set_number(makita, power, 777)
    indexing.refresh_products([makita.pk, bosch.pk])

    numbers = list(ProductFacet.objects.filter(product=makita, key=power.pk).values_list("number", flat=True))
    assert numbers == [777]
    assert set(ProductFacet.objects.filter(product=bosch).values_list("id", flat=True)) == kept
    assert listing_rows() == rebuilt()


def test_the_search_rows_point_at_their_product_without_a_constraint_and_go_with_it(catalogue):
    """
    The listing rows, search documents and facets are derived data, as a search
    engine's index is: on PostgreSQL no foreign-key constraint (its check cost every
    imported file's refresh one look-up of the product per row written), and Django's
    collector still deletes them with their product.
    """
    from django.db import connection

    tables = (ProductDocument, ProductListing, ProductFacet)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in tables:
                constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
                assert not [name for name, found in constraints.items() if found["foreign_key"]], model
    makita = catalogue["makita"]
    pk = makita.pk
    assert all(model.objects.filter(product_id=pk).exists() for model in tables)
    makita.delete()
    assert not any(model.objects.filter(product_id=pk).exists() for model in tables)
    assert listing_rows() == rebuilt()


def test_rows_of_a_product_gone_behind_djangos_back_are_never_drawn_and_the_sweep_drops_them(catalogue):
    """
    Without the constraint, a product deleted other than through Django (SQL by hand)
    leaves its rows behind: a listing page draws no card for them, and the sweep after
    a full package (``drop_unlisted``) drops them with the hidden products' rows.
    """
    from django.db import connection
    from oscar.core.loading import get_model

    from shop.apps.search.selectors import products_for

    if connection.vendor != "postgresql":
        pytest.skip("the embedded SQLite shop keeps the constraint (search migration 0008)")
    Product = get_model("catalogue", "Product")
    expected = listing_rows()
    makita = catalogue["makita"]
    ghost = Product.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a constraint would refuse the rows here
    row = ProductListing.objects.get(product=makita)
    ProductListing.objects.create(
        product_id=ghost,
        title="Дрель, удалённая из базы",
        price=row.price,
        in_stock=True,
        date_created=row.date_created,
        categories=row.categories,
        facets=row.facets,
        identifiers=[],
    )
    ProductDocument.objects.create(product_id=ghost, title="Дрель, удалённая из базы", text="")
    ProductFacet.objects.create(product_id=ghost, kind=ProductFacet.NUMBER, key=catalogue["power"].pk, number=1)

    assert products_for([ghost, makita.pk]) == [makita]
    assert indexing.drop_unlisted() == 1
    assert listing_rows() == expected


def _exchange_session(tmp_path, exchange, name):
    """The package's files uploaded to an exchange folder, each queued for the worker as 1C asks."""
    from django.core.files.storage import storages

    from integration_1c.models import ExchangeFile, ExchangeSession

    session = ExchangeSession.objects.create(exchange_type="catalog", token=name, folder=f"catalog/{name}")
    for path in exchange.dir.rglob("*"):
        if path.is_file():
            storages["exchange"].save(f"catalog/{name}/{path.relative_to(exchange.dir)}", path.open("rb"))
    return [
        ExchangeFile.objects.create(session=session, name=path.name, state=ExchangeFile.QUEUED, size=1)
        for path in exchange.files
    ]


def test_a_catalogue_file_leaves_the_listing_to_the_offers_file_after_it(tmp_path, monkeypatch):
    """
    The catalogue file of an exchange whose offers file is queued after it writes down
    the refresh it owes (``ListingDebt``) instead of making the rows; the offers file's
    refresh makes them, once, with their stock: the rows a rebuild gives, and nothing owed.
    """
    from integration_1c.models import ExchangeFile
    from shop.apps.search.models import ListingDebt

    exchange = generate_exchange(tmp_path / "full", seed=7, images=False, generated_at=WHEN, **MODEL)
    catalogue_file, offers_file = _exchange_session(tmp_path, exchange, "deferred")
    refreshed = []
    refresh = indexing._refresh_batch
    monkeypatch.setattr(indexing, "_refresh_batch", lambda ids: (refreshed.extend(ids), refresh(ids)))

    importer.apply_file(catalogue_file.pk)
    assert list(ListingDebt.objects.values_list("full", flat=True)) == [True]
    assert not ProductListing.objects.exists() and not refreshed

    importer.apply_file(offers_file.pk)
    assert set(ExchangeFile.objects.values_list("state", flat=True)) == {ExchangeFile.DONE}
    assert not ListingDebt.objects.exists()
    assert len(refreshed) == len(set(refreshed)), "every row is made once"
    rows = listing_rows()
    assert rows[1] and any(listing[3] for listing in rows[1])  # with their stock
    assert rebuilt() == rows


def test_a_failed_offers_file_leaves_no_product_out_of_the_listing(tmp_path):
    """
    The offers file the catalogue file left the refresh to fails (rolled back, with the
    debt it would have paid): the refresh is made then, as no file is left to make it.
    """
    from django.core.files.storage import storages

    from integration_1c.models import ExchangeFile
    from shop.apps.search.models import ListingDebt

    exchange = generate_exchange(tmp_path / "full", seed=7, images=False, generated_at=WHEN, **MODEL)
    catalogue_file, offers_file = _exchange_session(tmp_path, exchange, "failed")
    importer.apply_file(catalogue_file.pk)
    assert ListingDebt.objects.exists()
    broken = storages["exchange"].path(f"catalog/failed/{offers_file.name}")
    with open(broken, "r+b") as fileobj:
        fileobj.truncate(fileobj.seek(0, 2) // 2)

    importer.apply_file(offers_file.pk)
    offers_file.refresh_from_db()
    assert offers_file.state == ExchangeFile.FAILED and "обрывается" in offers_file.error
    assert not ListingDebt.objects.exists()
    rows = listing_rows()
    assert rows[1] and rebuilt() == rows


def test_a_catalogue_file_with_no_file_after_it_refreshes_the_listing_itself(tmp_path):
    from shop.apps.search.models import ListingDebt

    exchange = generate_exchange(tmp_path / "full", seed=7, images=False, generated_at=WHEN, **MODEL)
    catalogue_file, offers_file = _exchange_session(tmp_path, exchange, "alone")
    offers_file.delete()  # 1C sent the catalogue alone
    importer.apply_file(catalogue_file.pk)
    assert not ListingDebt.objects.exists()
    rows = listing_rows()
    assert rows[1] and rebuilt() == rows


def test_a_catalogue_file_that_wrote_stock_refreshes_the_listing_itself():
    """
    The stock records a file wrote (a full package's missing products zeroed) are known
    to that file only: it does not leave their refresh to another.
    """
    from integration_1c.commerceml import records
    from integration_1c.services.context import ImportContext
    from integration_1c.services.report import ImportReport

    ctx = ImportContext(ImportReport(source="import.xml"), kind=records.CATALOGUE, followed=True)
    assert importer.defers_listing(ctx, [])
    assert not importer.defers_listing(ctx, [17])
    ctx.kind = records.OFFERS
    assert not importer.defers_listing(ctx, [])
    ctx.kind, ctx.followed = records.CATALOGUE, False
    assert not importer.defers_listing(ctx, [])


def test_a_catalogue_file_whose_offers_file_never_comes_is_listed_later(tmp_path, monkeypatch):
    """
    The offers file is uploaded (registered from the archive) but 1C stops before it asks
    for its import: the task sent for a while after the catalogue file makes the rows.
    """
    from integration_1c import tasks
    from integration_1c.models import ExchangeFile
    from shop import background
    from shop.apps.search.models import ListingDebt

    exchange = generate_exchange(tmp_path / "full", seed=7, images=False, generated_at=WHEN, **MODEL)
    catalogue_file, offers_file = _exchange_session(tmp_path, exchange, "stopped")
    ExchangeFile.objects.filter(pk=offers_file.pk).update(state=ExchangeFile.UPLOADING)
    later = []
    monkeypatch.setattr(background, "enqueue_later", lambda task, seconds, *args: later.append((task.name, seconds)))
    importer.apply_file(catalogue_file.pk)
    assert ListingDebt.objects.exists() and not ProductListing.objects.exists()
    assert later == [("integration_1c.tasks.settle_deferred_work", importer.DEFERRED_WORK_DUE_SECONDS)]

    tasks.settle_deferred_work()  # the previous exchange's task: this debt is the offers file's yet
    assert ListingDebt.objects.exists() and not ProductListing.objects.exists()

    left = timezone.now() - timedelta(seconds=importer.DEFERRED_WORK_DUE_SECONDS + 1)
    ListingDebt.objects.update(created_at=left)
    tasks.settle_deferred_work()  # its own task: its time came, and no file made the rows
    assert not ListingDebt.objects.exists()
    rows = listing_rows()
    assert rows[1] and rebuilt() == rows
    tasks.settle_deferred_work()  # nothing owed: nothing done
    assert listing_rows() == rows
