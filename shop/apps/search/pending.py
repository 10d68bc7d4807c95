"""
The pending lists of the search tables' GIN indexes, merged beside a big import.

PostgreSQL adds a GIN index's new entries to a pending list (``fastupdate``) and merges
the list into the index once it outgrows ``gin_pending_list_limit`` (4 MB), in the
statement that outgrew it. After a full 100k import the listing's lists were three
quarters full, so the next package of changes paid a merge of hundreds of pages inside
its listing refresh — the serial tail of its file, 0.1–0.4 s of one batch (PostgreSQL's
log) — and autovacuum, which would merge them otherwise, may not have come by.

A big catalogue or offers file (:data:`MIN_BYTES`) has them merged on a connection of
its own while its records are read and written (``integration_1c.signals.
catalogue_import_started``): the merge needs none of the import's rows, and the refresh
then starts on empty lists (``receivers.catalogue_changed`` waits for the merge first,
which is over by then). Measured in-process on copies of the 100k catalogue, 10,000
offers right after the full import: 4.31 → 4.08 s on average over thirteen alternating
pairs (nine faster); the next package of 10,000, whose lists held only the first one's
entries, 3.79 → 3.67 s over ten (six faster, three slower): the merge is paid beside
every big file instead of inside the refresh of every few. Small files are left as they
were: a connection costs more than their refresh risks.
"""

import logging
import threading

from django.db import DatabaseError, connection, connections, transaction

from .models import ProductDocument, ProductListing, SearchWord

logger = logging.getLogger(__name__)

#: Files from this size on have the pending lists merged beside them.
MIN_BYTES = 4 * 1024 * 1024
#: Seconds the refresh waits for the merge at most; then it goes on beside it (PostgreSQL
#: lets entries be added while a list is merged), so an import never hangs on it.
FINISH_TIMEOUT = 30

_current = threading.local()


def clean_pending_lists():
    """
    Merge the pending lists of the search tables' GIN indexes into the indexes, on this
    thread's connection; returns how many entries moved. PostgreSQL allows it to the
    indexes' owner only (as ``VACUUM``): another role's error is logged and nothing merged.
    """
    if connection.vendor != "postgresql":
        return 0
    tables = [model._meta.db_table for model in (ProductListing, ProductDocument, SearchWord)]
    try:
        # In a savepoint of its own where a transaction is open: a refusal leaves it usable.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE a.amname = 'gin' AND i.indrelid = ANY(%s::regclass[])",
                [tables],
            )
            return cursor.fetchone()[0]
    except DatabaseError:
        logger.warning("Search indexes' pending lists not merged", exc_info=True)
        return 0


def _merge_on_own_connection():
    """:func:`clean_pending_lists` in a thread of its own, on its connection, closed when done."""
    try:
        clean_pending_lists()
    except Exception:  # noqa: BLE001 - a connection that fails must not fail the import
        logger.warning("Search indexes' pending lists not merged", exc_info=True)
    finally:
        connections.close_all()  # this thread's connections only


def start(size):
    """Merge the lists beside an import of ``size`` bytes (None: unknown, left alone)."""
    if connection.vendor != "postgresql" or size is None or size < MIN_BYTES:
        return
    finish()
    _current.merge = threading.Thread(target=_merge_on_own_connection, name="search-pending-lists", daemon=True)
    _current.merge.start()


def finish(timeout=FINISH_TIMEOUT):
    """Wait for the merge this thread started, if any (before a refresh adds entries)."""
    merge, _current.merge = getattr(_current, "merge", None), None
    if merge is None:
        return
    merge.join(timeout)
    if merge.is_alive():
        logger.warning("Search indexes' pending lists: still merging after %s s; the import goes on", timeout)
