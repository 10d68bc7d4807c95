"""
The import's fast paths give exactly the catalogue the straightforward path gives.

* pictures hard-linked from the upload vs copied byte by byte vs saved through a storage
  without files on disk: the same rows, the same names, the same bytes;
* a repeated, unchanged full exchange: the same rows, and nothing written again (ids and
  ``date_updated`` of products, stock records, prices and images unchanged);
* a product of which only an attribute value changed: not rewritten, but stamped, so the
  listing rows (refreshed for what was written since the file's start) follow; the same
  rows as a fresh import of the changed file;
* a changes-only package: the rows of offers it does not name stay as they were, and the
  sales records it recomputed for the offers it names are what the rule computes from
  scratch for the whole catalogue (``recompute_sales_stock`` of every product finds
  nothing to change).

Every catalogue row is compared by 1C codes, never by surrogate ids.
"""

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.core.files.storage import FileSystemStorage, default_storage
from oscar.core.loading import get_model

from integration_1c.commerceml import records
from integration_1c.commerceml.reader import iter_records
from integration_1c.models import ProductExchange, ProductPrice
from integration_1c.services import attributes, bulk, importer, reading
from integration_1c.services.images import ImageWriter
from integration_1c.services.stock import recompute_sales_stock
from integration_1c.testing.generator import generate_exchange, generate_offer_changes

pytestmark = pytest.mark.django_db

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

MODEL = {"products": 40, "variant_share": 0.25, "variants": (2, 3), "warehouses": 3}
WHEN = datetime(2026, 11, 30, 12, 0, 0)


@pytest.fixture
def package(tmp_path):
    return generate_exchange(tmp_path / "full", seed=7, images=True, generated_at=WHEN, **MODEL)


def import_package(exchange):
    """Apply every file of the package; their reports' summaries."""
    return [importer.apply_path(path, base_dir=exchange.dir).summary() for path in exchange.files]


def picture_bytes(name, storage=None):
    if storage is not None:
        with storage.open(name) as fileobj:
            return fileobj.read()
    return (Path(django_settings.MEDIA_ROOT) / name).read_bytes()


def catalogue(storage=None):
    """Every row the import keeps, by 1C codes."""
    categories = {row["id"]: row for row in Category.objects.values("id", "code", "path")}
    paths = {row["path"]: row["code"] for row in categories.values()}
    products = dict(Product.objects.values_list("id", "code"))
    return {
        "categories": sorted(
            (row["code"], row["name"], row["slug"], row["is_public"], row["depth"], paths.get(row["path"][:-4]))
            for row in Category.objects.values("code", "name", "slug", "is_public", "depth", "path")
        ),
        "products": sorted(
            (row["code"], products.get(row["parent_id"]), row["structure"], row["title"], row["slug"],
             row["description"], row["is_public"])
            for row in Product.objects.values(
                "code", "parent_id", "structure", "title", "slug", "description", "is_public"
            )
        ),  # fmt: skip
        "links": sorted(
            (products[product_id], categories[category_id]["code"])
            for product_id, category_id in ProductCategory.objects.values_list("product_id", "category_id")
        ),
        "values": sorted(
            (products[row["product_id"]], row["attribute__code"], row["value_text"], row["value_integer"],
             row["value_float"], row["value_boolean"], row["value_option__option"], row["value_richtext"])
            for row in ProductAttributeValue.objects.values(
                "product_id", "attribute__code", "value_text", "value_integer", "value_float", "value_boolean",
                "value_option__option", "value_richtext",
            )
        ),  # fmt: skip
        "stock": sorted(
            (row["partner__code"], row["partner_sku"], products[row["product_id"]], row["num_in_stock"],
             row["num_allocated"], row["price"], row["price_currency"])
            for row in StockRecord.objects.values(
                "partner__code", "partner_sku", "product_id", "num_in_stock", "num_allocated", "price",
                "price_currency",
            )
        ),  # fmt: skip
        "prices": sorted(
            ProductPrice.objects.values_list("product__code", "price_type__code", "price", "currency")
        ),
        "images": sorted(
            (products[row["product_id"]], row["code"], row["caption"], row["display_order"], row["original"],
             hashlib.sha1(picture_bytes(row["original"], storage)).hexdigest())
            for row in ProductImage.objects.values("product_id", "code", "caption", "display_order", "original")
        ),  # fmt: skip
    }


def written_rows():
    """What a rewrite would change even with equal values: ids and update stamps."""
    return {
        "products": sorted(Product.objects.values_list("id", "date_updated")),
        "stock": sorted(StockRecord.objects.values_list("id", "date_updated")),
        "prices": sorted(ProductPrice.objects.values_list("id", "date_updated")),
        "images": sorted(ProductImage.objects.values_list("id", "original")),
    }


def empty_catalogue():
    """Remove what the import wrote, rows and picture files, as a fresh shop would be."""
    ProductImage.objects.all()._raw_delete("default")
    StockRecord.objects.all().delete()
    ProductPrice.objects.all().delete()
    ProductAttributeValue.objects.all().delete()
    ProductCategory.objects.all().delete()
    Product.objects.filter(parent__isnull=False).delete()
    Product.objects.all().delete()
    Category.objects.all().delete()
    for path in Path(django_settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            path.unlink()


def test_the_package_has_what_the_comparison_needs(package):
    import_package(package)
    rows = catalogue()
    assert len(rows["images"]) == len(package.images) > 10
    assert any(row[2] == Product.CHILD for row in rows["products"])
    assert len(rows["stock"]) > len(rows["products"]) // 2
    assert rows["values"] and rows["prices"] and rows["links"]


def test_linked_copied_and_stored_pictures_give_the_same_catalogue(package, monkeypatch, settings):
    import_package(package)
    linked = catalogue()
    first_picture = Path(django_settings.MEDIA_ROOT) / linked["images"][0][4]
    assert first_picture.stat().st_nlink == 2  # linked to the upload

    empty_catalogue()

    def refuse(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    import_package(package)
    copied = catalogue()
    assert first_picture.stat().st_nlink == 1
    assert copied == linked

    empty_catalogue()
    monkeypatch.setattr(ImageWriter, "PROCESS_AFTER", 0)  # examined and placed by a process of their own
    import_package(package)
    assert catalogue() == linked
    monkeypatch.setattr(ImageWriter, "PROCESS_AFTER", 10**9)

    empty_catalogue()
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    assert not isinstance(default_storage, FileSystemStorage)
    import_package(package)
    assert catalogue(default_storage) == linked


def test_a_repeated_unchanged_exchange_gives_the_same_rows_and_writes_nothing(package):
    import_package(package)
    first, stamps = catalogue(), written_rows()

    import_package(package)

    assert catalogue() == first
    assert written_rows() == stamps


def test_changes_touch_only_the_offers_they_name_and_agree_with_the_full_rule(package, tmp_path):
    import_package(package)
    before = catalogue()
    stamps = dict(StockRecord.objects.values_list("partner_sku", "date_updated").order_by())
    changes = generate_offer_changes(
        tmp_path / "changes", base_seed=7, offers=15, change_seed=3, generated_at=WHEN, **MODEL
    )
    named = {offer.id for offer in changes.changed}

    for path in changes.files:
        importer.apply_path(path, base_dir=changes.dir)

    after = catalogue()
    untouched = [row for row in before["stock"] if row[1] not in named]
    assert untouched == [row for row in after["stock"] if row[1] not in named]
    assert all(
        date_updated == stamps[sku]
        for sku, date_updated in StockRecord.objects.values_list("partner_sku", "date_updated")
        if sku not in named
    )
    assert [row for row in after["stock"] if row[1] in named] != [
        row for row in before["stock"] if row[1] in named
    ]
    assert after["products"] == before["products"] and after["images"] == before["images"]
    # The straightforward path: the rule applied to every product of the catalogue.
    assert recompute_sales_stock(Product.objects.values_list("id", flat=True)) == 0
    assert catalogue() == after


def test_a_product_whose_values_alone_changed_is_stamped_and_listed_anew(package, tmp_path):
    import_package(package)
    changed = tmp_path / "changed"
    shutil.copytree(package.dir, changed)
    import_xml = changed / "import.xml"
    text = import_xml.read_text(encoding="utf-8")
    article = re.search(r"<Артикул>([^<]+)</Артикул>", text).group(1)
    import_xml.write_text(
        text.replace(f"<Артикул>{article}</Артикул>", f"<Артикул>{article}-Z9</Артикул>", 1), encoding="utf-8"
    )
    code = next(
        record.id
        for record in iter_records(import_xml)
        if isinstance(record, records.Product) and record.article == f"{article}-Z9"
    )
    stamps = dict(Product.objects.values_list("code", "date_updated"))

    importer.apply_path(import_xml, base_dir=changed)

    moved = {
        code for code, stamp in Product.objects.values_list("code", "date_updated") if stamp != stamps[code]
    }
    assert moved == {code}
    from shop.apps.search.models import ProductListing

    identifiers = ProductListing.objects.get(product__code=code).identifiers
    assert f"{article}-z9".lower() in identifiers
    incremental = catalogue()

    empty_catalogue()
    for path in package.files:
        importer.apply_path(changed / path.name, base_dir=changed)
    assert catalogue() == incremental


def product_states():
    """The products' 1C state (their catalogue), by code: written as new rows or upserted."""
    return sorted(ProductExchange.objects.values_list("product__code", "catalogue"))


def test_rows_inserted_as_new_are_the_rows_the_upsert_writes(package, monkeypatch):
    plain = []
    upserted = bulk.upsert

    def counting(*args, conflicts=True, **kwargs):
        plain.append(not conflicts)
        return upserted(*args, conflicts=conflicts, **kwargs)

    monkeypatch.setattr(bulk, "upsert", counting)
    import_package(package)
    assert any(plain)  # the first import inserted its new rows without ON CONFLICT
    inserted, states = catalogue(), product_states()

    empty_catalogue()
    plain.clear()
    monkeypatch.setattr(importer, "plain_inserts", lambda enabled=True: bulk.plain_inserts(False))
    import_package(package)

    assert not any(plain)  # the straightforward path: every new row upserted
    assert catalogue() == inserted
    assert product_states() == states


def test_a_row_written_meanwhile_applies_the_file_again_with_upserts(package, monkeypatch):
    """
    A manager saves an attribute value of a product after the import read the product's
    values and before it writes them: the plain INSERT finds the row there, the file's
    transaction is lost and the file is applied again with every row upserted — the same catalogue and
    the same reports as without the race.
    """
    reports = import_package(package)
    expected = catalogue()
    empty_catalogue()

    raced = []
    original = attributes.insert_new

    def racing_insert(model, rows, **kwargs):
        if rows and bulk._plain_inserts.enabled and not raced:
            raced.append(model)
            bulk.upsert(model, rows[:1], unique=kwargs["unique"], update=kwargs["update"])  # "the manager"
        return original(model, rows, **kwargs)

    monkeypatch.setattr(attributes, "insert_new", racing_insert)

    assert import_package(package) == reports
    assert raced == [ProductAttributeValue]
    assert catalogue() == expected


def test_a_plain_insert_refuses_a_row_that_is_there_with_an_insert_conflict(package):
    import_package(package)
    value = ProductAttributeValue.objects.filter(value_text__isnull=False).values(
        "product_id", "attribute_id", "value_text"
    )[0]
    row = {**value, "value_float": None, "value_boolean": None, "value_option_id": None}
    with transaction.atomic(), bulk.plain_inserts():
        with pytest.raises(bulk.InsertConflict) as raised:
            bulk.insert_new(ProductAttributeValue, [row], unique=["attribute", "product"], update=["value_text"])
        transaction.set_rollback(True)
    assert isinstance(raised.value, IntegrityError)


def test_writes_sent_behind_give_the_catalogue_writes_waited_for_give(package, monkeypatch):
    """``bulk.WriteBehind``: first import and repeat, the same rows as every write run in turn."""
    behind = []
    original = bulk.WriteBehind._write
    monkeypatch.setattr(bulk.WriteBehind, "_write", lambda self, *job: (behind.append(job[0]), original(self, *job))[1])
    first = import_package(package)
    assert any(sql.startswith("INSERT INTO \"catalogue_productattributevalue\"") for sql in behind)
    written, states = catalogue(), product_states()
    again = import_package(package)
    repeated = catalogue()

    empty_catalogue()
    behind.clear()
    monkeypatch.setattr(importer, "WriteBehind", contextlib.nullcontext)
    assert import_package(package) == first
    assert not behind
    assert catalogue() == written
    assert product_states() == states
    assert import_package(package) == again
    assert catalogue() == repeated


def test_records_read_by_a_process_give_the_catalogue_a_thread_gives(package, monkeypatch):
    forked = []
    monkeypatch.setattr(reading, "PROCESS_MIN_BYTES", 1)
    monkeypatch.setattr(reading, "read_in_process", spy(reading.read_in_process, forked))
    monkeypatch.setattr(importer, "read_in_process", reading.read_in_process)
    import_package(package)
    assert len(forked) == len(package.files)
    by_process = catalogue()

    empty_catalogue()
    monkeypatch.setattr(reading, "PROCESS_MIN_BYTES", 10**12)
    import_package(package)
    assert len(forked) == len(package.files)  # every file read by a thread this time
    assert catalogue() == by_process


def spy(function, calls):
    def called(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return called


def test_prices_and_states_go_with_their_product_and_type(package):
    """No database constraint holds them (see ProductPrice): Django's cascade removes them."""
    from integration_1c.models import PriceType

    import_package(package)
    product = Product.objects.filter(onec_prices__isnull=False, onec__isnull=False).distinct().first()
    prices = ProductPrice.objects.filter(product=product).count()
    assert prices and ProductExchange.objects.filter(product=product).exists()
    total = ProductPrice.objects.count()

    product.delete()

    assert not ProductExchange.objects.filter(product_id=product.pk).exists()
    assert ProductPrice.objects.count() == total - prices
    price_type = PriceType.objects.first()
    typed = ProductPrice.objects.filter(price_type=price_type).count()
    price_type.delete()
    assert ProductPrice.objects.count() == total - prices - typed
    assert not ProductPrice.objects.filter(price_type_id=price_type.pk).exists()


def _updates(tables):
    """(updates, HOT updates) of this transaction per table, from PostgreSQL's own counters."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(tables)],
        )
        return {name: (updated, hot) for name, updated, hot in cursor.fetchall()}


def test_a_package_of_changes_updates_prices_stock_and_stamps_in_place(tmp_path):
    """
    The pages of prices, stock records and products' 1C state keep room for a package of
    changes: its updates are HOT (no index entry written), which cut by a third what PostgreSQL
    spent on 10,000 offers of a 100,000-product catalogue. A tenth of the offers change,
    as in the benchmark's package.
    """
    from django.utils import timezone

    model = {"products": 400, "variant_share": 0.25, "variants": (2, 3), "warehouses": 3}
    full = generate_exchange(tmp_path / "full", seed=5, images=False, generated_at=WHEN, **model)
    # One run, as 1C sends it: its offers file does not stamp the products its catalogue
    # file stamped (the test's single transaction could not reclaim those versions).
    started = timezone.now()
    for path in full.files:
        importer.apply_path(path, base_dir=full.dir, since=started)
    changes = generate_offer_changes(
        tmp_path / "changes", base_seed=5, offers=60, change_seed=2, generated_at=WHEN, **model
    )
    tables = ("integration_1c_productprice", "partner_stockrecord", "integration_1c_productexchange")
    before = _updates(tables)

    for path in changes.files:
        importer.apply_path(path, base_dir=changes.dir)

    after = _updates(tables)
    for table in tables:
        updated = after[table][0] - before[table][0]
        hot = after[table][1] - before[table][1]
        # Nearly all: rows that earlier tests' rolled-back transactions left on a page may
        # take a little of its room (without the room, 38% of the price updates were HOT).
        assert updated > 0 and hot >= 0.9 * updated, (table, updated, hot)


def test_array_literals_read_back_as_the_values_they_were_made_of():
    """
    ``bulk.array_literal`` builds the arrays every bulk write sends, quoting a column of
    texts in one join unless a value needs escaping: PostgreSQL reads each back as the
    values it was made of, whichever way it was built.
    """
    from decimal import Decimal

    from django.db import connection

    columns = [
        ("text", ["a", "Дрель ударная", "", "NULL", "with space", "a,b", "{braces}", "tab\there"]),
        ("text", ['say "hi"', "back\\slash", 'both \\"', "\\", '"', "plain"]),
        ("text", ['"']),
        ("text", ["only one"]),
        ("text", ["x", None, 'q"', None]),
        ("text", []),
        ("integer", [1, 2, 3, -4]),
        ("integer", [1, None, 3]),
        ("boolean", [True, False, None]),
        ("numeric", [Decimal("1.50"), Decimal("1E+2"), None, 7]),
    ]
    with connection.cursor() as cursor:
        for kind, values in columns:
            cursor.execute(f"SELECT %s::{kind}[]", [bulk.array_literal(values)])
            (stored,) = cursor.fetchone()
            assert stored == values, (kind, values, stored)


@pytest.mark.parametrize("by_process", [False, True])
def test_an_archive_read_in_place_gives_the_catalogue_its_files_give(package, tmp_path, monkeypatch, by_process):
    """
    The XML files and pictures of an archive are not unpacked: the XML is inflated as
    the importer reads it (by a thread, or by the reading process), the pictures are
    read from the archive. The same catalogue as the same files in a folder.
    """
    from django.core.files.storage import storages

    from integration_1c.models import ExchangeFile, ExchangeSession
    from integration_1c.protocol import pipeline
    from integration_1c.testing.emulator import build_archive

    monkeypatch.setattr(reading, "PROCESS_MIN_BYTES", 1 if by_process else 10**12)
    import_package(package)
    expected = catalogue()
    empty_catalogue()

    zipped = build_archive(package.dir, package.files, tmp_path / "v8.zip")
    session = ExchangeSession.objects.create(exchange_type="catalog", token="zip", folder="catalog/zip")
    storages["exchange"].save("catalog/zip/v8.zip", zipped.open("rb"))
    archive = ExchangeFile.objects.create(
        session=session, name="v8.zip", kind=pipeline.ARCHIVE, state=ExchangeFile.QUEUED, size=zipped.stat().st_size
    )
    pipeline.unpack_archive(archive.pk)
    for path in package.files:
        exchange_file = ExchangeFile.objects.get(session=session, name=path.name)
        assert exchange_file.packed is not None and not storages["exchange"].exists(f"catalog/zip/{path.name}")
        importer.apply_file(exchange_file.pk)
        exchange_file.refresh_from_db()
        assert (exchange_file.state, exchange_file.error) == (ExchangeFile.DONE, "")

    assert catalogue() == expected


def test_keys_asked_for_are_looked_up_by_index_whatever_plan_the_database_picks():
    """
    The offers a full package listed (``bulk.KeySet``) go in without an index and are
    indexed once before the sweep asks for them: with an import's stale statistics the
    database may join them row by row, and without the index every row read them all.
    """
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    keys = bulk.KeySet("plan_test")
    with transaction.atomic():
        keys.add([f"offer-{index}" for index in range(3000)])
        keys.add(["offer-1", "offer-2"])  # again: no constraint refuses a key added twice
        keys.prepare()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute(
                "EXPLAIN SELECT v.code FROM (VALUES ('offer-1'), ('other')) AS v(code) "
                f"WHERE NOT {keys.exists_sql('v.code')}"
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(
                "SELECT v.code FROM (VALUES ('offer-1'), ('other')) AS v(code) "
                f"WHERE NOT {keys.exists_sql('v.code')}"
            )
            assert cursor.fetchall() == [("other",)]
        keys.drop()
    assert "Index" in plan and "onec_seen_plan_test" in plan, plan


@pytest.mark.parametrize("zipped", [False, True], ids=["files", "archive"])
def test_the_file_read_ahead_while_the_one_before_is_imported_gives_the_same_catalogue(
    package, tmp_path, monkeypatch, zipped
):
    """
    While the catalogue file is imported, the offers file waiting after it is parsed into
    a spool (``reading.start_reading_ahead``), which its own import then reads: the same
    catalogue as the files parsed in their turn, and no spool or reading process left.
    """
    from django.core.files.storage import storages

    from integration_1c.models import ExchangeFile, ExchangeSession
    from integration_1c.protocol import pipeline
    from integration_1c.testing.emulator import build_archive

    from tests.processes import child_pids

    monkeypatch.setattr(reading, "PROCESS_MIN_BYTES", 1)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "spools"))
    (tmp_path / "spools").mkdir()
    import_package(package)
    expected = catalogue()
    empty_catalogue()

    session = ExchangeSession.objects.create(exchange_type="catalog", token="ahead", folder="catalog/ahead")
    storage = storages["exchange"]
    if zipped:
        archive_path = build_archive(package.dir, package.files, tmp_path / "v8.zip")
        storage.save("catalog/ahead/v8.zip", archive_path.open("rb"))
        archive = ExchangeFile.objects.create(
            session=session, name="v8.zip", kind=pipeline.ARCHIVE, state=ExchangeFile.QUEUED, size=1
        )
        pipeline.unpack_archive(archive.pk)
    else:
        for path in package.dir.rglob("*"):
            if path.is_file():
                storage.save(f"catalog/ahead/{path.relative_to(package.dir)}", path.open("rb"))
        for path in package.files:  # uploaded, the first one asked for
            ExchangeFile.objects.create(
                session=session, name=path.name, state=ExchangeFile.UPLOADING, size=path.stat().st_size
            )
    spooled_reads = []
    read_spooled = importer.read_spooled
    monkeypatch.setattr(importer, "read_spooled", lambda *a, **k: spooled_reads.append(a[0]) or read_spooled(*a, **k))
    others = set(child_pids())
    for path in package.files:
        exchange_file = ExchangeFile.objects.get(session=session, name=path.name)
        importer.apply_file(exchange_file.pk)
        exchange_file.refresh_from_db()
        assert (exchange_file.state, exchange_file.error) == (ExchangeFile.DONE, "")

    assert catalogue() == expected
    assert [spool.parent for spool in spooled_reads] == [tmp_path / "spools"]  # the offers file
    assert not list((tmp_path / "spools").iterdir())
    assert not [pid for pid in child_pids() if pid not in others]
