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
