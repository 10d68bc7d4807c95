"""
The import's writes nobody reads the result of go to PostgreSQL from a thread of their
own (``bulk.WriteBehind``): the next statement of the import sees them, a write's error
is raised in the importing thread at its next statement, the writes after a failed one
are dropped, and a failing import leaves no thread behind.
"""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from integration_1c.models import PriceType
from integration_1c.services import bulk

pytestmark = pytest.mark.django_db

if connection.vendor != "postgresql":  # pragma: no cover - the suite runs on PostgreSQL
    pytest.skip("writes go behind on PostgreSQL only", allow_module_level=True)


@pytest.fixture
def written(monkeypatch):
    """The statements the write thread ran, with the thread that ran them."""
    calls = []
    original = bulk.WriteBehind._write

    def recording(self, sql, params, plain_insert):
        calls.append((threading.current_thread().name, sql.split()[0]))
        return original(self, sql, params, plain_insert)

    monkeypatch.setattr(bulk.WriteBehind, "_write", recording)
    return calls


def price_types(*codes):
    return [{"code": code, "name": f"Цена {code}", "currency": "KZT"} for code in codes]


def import_threads():
    return [thread for thread in threading.enumerate() if thread.name == "onec-import-writes"]


def test_a_write_sent_behind_is_read_by_the_next_statement(written):
    with transaction.atomic(), bulk.WriteBehind():
        bulk.upsert(PriceType, price_types("retail", "wholesale"), unique=["code"], update=["name"])
        bulk.update_rows(PriceType, [], ["name"])  # nothing to write: nothing sent
        assert sorted(PriceType.objects.values_list("code", flat=True)) == ["retail", "wholesale"]
        ids = dict(PriceType.objects.values_list("code", "id"))
        bulk.update_rows(PriceType, [{"id": ids["retail"], "name": "Розница"}], ["name"])
        assert PriceType.objects.get(code="retail").name == "Розница"

    assert written == [("onec-import-writes", "INSERT"), ("onec-import-writes", "UPDATE")]
    assert not import_threads()


def test_a_failed_write_is_raised_in_the_importing_thread_and_the_writes_after_it_are_dropped(written):
    with pytest.raises(IntegrityError):
        with transaction.atomic(), bulk.WriteBehind():
            bulk.upsert(PriceType, price_types("retail"), unique=["code"], update=["name"])
            bulk.upsert(PriceType, [{"code": "broken", "name": None}], unique=["code"], update=["name"])
            try:
                bulk.upsert(PriceType, price_types("after"), unique=["code"], update=["name"])
            except IntegrityError:
                pass  # the failure may already be known when this one is sent: then it is not sent either
            PriceType.objects.count()  # raises the failed write's error

    assert [sql for _, sql in written] == ["INSERT", "INSERT"]  # the third never ran
    assert not PriceType.objects.exists()
    assert not import_threads()


def test_a_plain_insert_sent_behind_conflicts_as_an_insert_conflict(written):
    bulk.upsert(PriceType, price_types("retail"), unique=["code"], update=["name"])
    with pytest.raises(bulk.InsertConflict):
        with transaction.atomic(), bulk.plain_inserts(), bulk.WriteBehind():
            bulk.insert_new(PriceType, price_types("retail"), unique=["code"], update=["name"])
            PriceType.objects.count()
    assert written == [("onec-import-writes", "INSERT")]
    assert PriceType.objects.get().name == "Цена retail"


def test_an_import_failing_while_writes_are_out_ends_its_write_thread():
    with pytest.raises(RuntimeError):
        with transaction.atomic(), bulk.WriteBehind():
            # A statement that runs for a while: the failure below comes while it is out.
            bulk.execute_write("SELECT pg_sleep(5)", [])
            bulk.upsert(PriceType, price_types("retail"), unique=["code"], update=["name"])
            raise RuntimeError("the import failed meanwhile")
    assert not import_threads()
    assert not PriceType.objects.exists()


def _dangling_reference_refused_at_once():
    """Whether a row that refers to no product is refused by its own statement (not at the commit)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO catalogue_productcategory (product_id, category_id) VALUES (-1, -1)")
            cursor.execute("DELETE FROM catalogue_productcategory WHERE product_id = -1")
    except IntegrityError:
        return True
    return False


def test_an_imports_references_are_checked_by_each_statement_and_deferred_again_after_it(tmp_path):
    """
    A file's foreign keys are checked as its statements run (in the writes sent behind,
    beside the import's Python), not all in the commit; after the file, Django's deferred
    checks again.
    """
    from integration_1c.services import importer
    from integration_1c.signals import catalogue_changed
    from integration_1c.testing.generator import generate_exchange

    during = []
    catalogue_changed.connect(
        lambda **kwargs: during.append(_dangling_reference_refused_at_once()), weak=False, dispatch_uid="test.references"
    )
    try:
        exchange = generate_exchange(tmp_path, products=5, images=False)
        for path in exchange.files:
            importer.apply_path(path, base_dir=exchange.dir)
    finally:
        catalogue_changed.disconnect(dispatch_uid="test.references")

    assert during == [True] * len(exchange.files)
    assert not _dangling_reference_refused_at_once()
