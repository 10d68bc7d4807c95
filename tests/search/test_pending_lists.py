"""
A big 1C file has the search indexes' GIN pending lists merged on a connection of its
own while its records are written, and its listing refresh waits for that merge
(``shop.apps.search.pending``). PostgreSQL only: SQLite has no such indexes.
"""

import logging
import threading
import time
from datetime import datetime

import pytest
from django.db import connection
from django.utils import timezone

from integration_1c.services import importer
from integration_1c.testing.generator import generate_exchange
from shop.apps.search import indexing, pending
from shop.apps.search.models import ProductListing

from .conftest import listing_rows

pytestmark = pytest.mark.django_db

MODEL = {"products": 20, "variant_share": 0.25, "variants": (2, 3), "warehouses": 2}
WHEN = datetime(2026, 12, 7, 12, 0, 0)


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("GIN pending lists are PostgreSQL's")


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def apply(exchange):
    for path in exchange.files:
        importer.apply_path(path, base_dir=exchange.dir)


def test_a_big_file_has_the_lists_merged_on_a_connection_of_its_own_before_its_refresh(tmp_path, monkeypatch):
    monkeypatch.setattr(pending, "MIN_BYTES", 1)
    events = []
    merge, refresh = pending.clean_pending_lists, indexing.refresh_changed_since

    def merged():
        time.sleep(0.3)  # longer than the records of this small file take
        moved = merge()
        events.append(("merge", threading.get_ident(), backend_pid()))
        return moved

    def refreshed(*args, **kwargs):
        events.append(("refresh", threading.get_ident(), backend_pid()))
        return refresh(*args, **kwargs)

    monkeypatch.setattr(pending, "clean_pending_lists", merged)
    monkeypatch.setattr(indexing, "refresh_changed_since", refreshed)
    exchange = generate_exchange(tmp_path, seed=3, images=False, generated_at=WHEN, **MODEL)
    apply(exchange)

    # Each merge was over before its file's refresh began.
    assert [event[0] for event in events] == ["merge", "refresh"] * len(exchange.files)
    importing = (threading.get_ident(), backend_pid())
    for (_, *merging), (_, *refreshing) in zip(events[::2], events[1::2]):
        assert tuple(refreshing) == importing
        assert merging[0] != importing[0] and merging[1] != importing[1]
    assert listing_rows()[1], "the import listed its products"


def test_a_small_file_is_imported_without_a_merge(tmp_path, monkeypatch):
    monkeypatch.setattr(pending, "clean_pending_lists", lambda: pytest.fail("merged beside a small file"))
    apply(generate_exchange(tmp_path, seed=3, images=False, generated_at=WHEN, **MODEL))
    assert listing_rows()[1]


def test_a_merge_that_fails_does_not_fail_the_import(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(pending, "MIN_BYTES", 1)

    def broken():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(pending, "clean_pending_lists", broken)
    with caplog.at_level(logging.WARNING, logger="shop.apps.search.pending"):
        apply(generate_exchange(tmp_path, seed=3, images=False, generated_at=WHEN, **MODEL))
    assert listing_rows()[1]
    assert "pending lists not merged" in caplog.text


def test_the_merge_moves_what_the_listing_rows_left_pending():
    ProductListing.objects.create(
        product_id=10**9,
        title="Грабли",
        price=None,
        in_stock=True,
        date_created=timezone.now(),
        popularity=0,
        categories=[1, 2],
        facets=["w1", "v3:синий"],
        identifiers=["ab-1"],
    )
    assert pending.clean_pending_lists() >= 5  # two categories, two facets, an identifier
    assert pending.clean_pending_lists() == 0


def test_a_role_that_does_not_own_the_indexes_merges_nothing_and_its_transaction_goes_on(caplog):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE shop_pending_lists_test")  # undone with the test's transaction
        cursor.execute("GRANT USAGE ON SCHEMA public TO shop_pending_lists_test")
        cursor.execute("SET LOCAL ROLE shop_pending_lists_test")
    with caplog.at_level(logging.WARNING, logger="shop.apps.search.pending"):
        assert pending.clean_pending_lists() == 0
    assert "pending lists not merged" in caplog.text
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
