"""
The exchange journal's own writes: when an exchange is over, and how far a running
import got.

Only 3.x clients end an exchange with ``mode=complete``; 2.x clients (and every client
that stops after a failure) just stop calling. A session therefore also ends

* when its files are all applied and no call came for conf ``ONEC_EXCHANGE_IDLE_MINUTES``
  (:func:`close_finished`, run by the Celery beat task ``journal_tasks.close_finished_exchanges``
  and whenever a manager opens the journal, so the embedded shop without beat shows it too);
* at the next ``checkauth`` of the same 1C user and exchange type (:func:`session_started`):
  1C starts every exchange, and every file of a 2.x exchange, with a fresh checkauth, so the
  cycle before it is over.

It ends as «Ошибка» (FAILED) when one of its files failed, when 1C left an XML file
uploaded but never asked to import it, or when it only ever got ``failure`` answers;
otherwise «Завершён» (COMPLETE).

While a file imports, :class:`ImportProgress` keeps the live figures in the cache (the
worker writes, the journal page reads them through ``selectors.file_progress``): records
applied, bytes of the file read, when.
"""

import time
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integration_1c import conf
from integration_1c.models import ExchangeFile, ExchangeSession, OrderExportItem
from integration_1c.selectors import live_key

#: ``ExchangeFile.kind`` values that are not imported by themselves (see protocol.pipeline).
NOT_IMPORTED_KINDS = ("archive", "attachment")
ACTIVE_STATES = (ExchangeFile.QUEUED, ExchangeFile.RUNNING)
LIVE_TIMEOUT = 3600


class ImportProgress:
    """
    The importer's progress callback (``ImportContext.progress``): called with the records
    applied so far after every batch. Besides the count the importer's own cache key
    holds, it records how many bytes of the file the reader has consumed (the open file's
    position), which gives the share of the file read, the rate and the time left.
    """

    def __init__(self, exchange_file, counter_key=None):
        self.file_id = exchange_file.pk
        self.size = exchange_file.size or 0
        self.counter_key = counter_key
        self.started = time.time()
        self.fileobj = None
        cache.set(live_key(self.file_id), self._figures(0, 0), LIVE_TIMEOUT)

    def watch(self, fileobj):
        """The open file the reader consumes: its position is how far the import read."""
        self.fileobj = fileobj
        try:
            fileobj.seek(0, 2)
            self.size = fileobj.tell() or self.size
            fileobj.seek(0)
        except (OSError, AttributeError, ValueError):
            pass

    def follow(self, source):
        """The file is read elsewhere (another process): ask ``source.tell()`` how far."""
        self.fileobj = source

    def __call__(self, processed):
        if self.counter_key:
            cache.set(self.counter_key, processed, LIVE_TIMEOUT)
        cache.set(live_key(self.file_id), self._figures(processed, self._position()), LIVE_TIMEOUT)

    def _position(self):
        try:
            return self.fileobj.tell() if self.fileobj is not None else 0
        except (OSError, AttributeError, ValueError):
            return 0

    def _figures(self, processed, position):
        return {
            "processed": processed,
            "bytes_read": position,
            "size": self.size,
            "started": self.started,
            "at": time.time(),
        }


def idle_delay():
    return timedelta(minutes=float(conf.get("ONEC_EXCHANGE_IDLE_MINUTES")))


def outcome(session):
    """
    ``(state, reason)`` a session ends with: FAILED with the operator's reason when a file
    failed or was left unimported, or when every call was refused; else COMPLETE.
    """
    files = session.files.exclude(kind__in=NOT_IMPORTED_KINDS)
    failed = files.filter(state=ExchangeFile.FAILED).order_by("pk").first()
    if failed is not None:
        return ExchangeSession.FAILED, ""
    archive_failed = session.files.filter(kind="archive", state=ExchangeFile.FAILED).exists()
    if archive_failed:
        return ExchangeSession.FAILED, ""
    left = list(files.filter(state=ExchangeFile.UPLOADING).values_list("name", flat=True)[:5])
    if left:
        names = ", ".join(f"«{name}»" for name in left)
        return ExchangeSession.FAILED, (
            f"1С передала файлы {names}, но не запросила их загрузку (mode=import): обмен прервался. "
            "Запустите обмен в 1С ещё раз."
        )
    done_anything = files.filter(state=ExchangeFile.DONE).exists() or session.exported_orders.exists()
    if session.messages and not done_anything:
        return ExchangeSession.FAILED, ""
    return ExchangeSession.COMPLETE, ""


def finish(session, now=None):
    """Close one open session with its outcome; returns the state (None if it was not open)."""
    state, reason = outcome(session)
    fields = {"state": state, "finished_at": session.last_seen_at or now or timezone.now()}
    if reason:
        entry = {"at": timezone.now().isoformat(timespec="seconds"), "mode": "", "message": reason}
        fields["messages"] = (list(session.messages or []) + [entry])[-200:]
    updated = ExchangeSession.objects.filter(pk=session.pk, state=ExchangeSession.OPEN).update(**fields)
    return state if updated else None


def _closable(sessions):
    """Open sessions with no file waiting for or in the importer."""
    return sessions.filter(state=ExchangeSession.OPEN).exclude(
        pk__in=ExchangeFile.objects.filter(state__in=ACTIVE_STATES).values("session_id")
    )


def close_finished(now=None):
    """
    End every open session whose files are all applied and that got no call for conf
    ``ONEC_EXCHANGE_IDLE_MINUTES``. Returns how many were closed.
    """
    now = now or timezone.now()
    closed = 0
    for session in _closable(ExchangeSession.objects.filter(last_seen_at__lt=now - idle_delay())):
        closed += finish(session, now) is not None
    return closed


def session_started(session):
    """
    ``checkauth`` hook: the same 1C user starting a new exchange of the same type ends
    its earlier cycles that are done (their imports finished). Sessions that never got
    past checkauth are left to ``pipeline.drop_unused_checkauth_sessions``.
    """
    # EXISTS, not a join with DISTINCT: a run with pictures has a file row per picture
    # (118,000 for a 100,000-product catalogue), and joining them made checkauth slow.
    has_files = Exists(ExchangeFile.objects.filter(session_id=OuterRef("pk")))
    has_orders = Exists(OrderExportItem.objects.filter(session_id=OuterRef("pk")))
    earlier = _closable(
        ExchangeSession.objects.filter(
            user_id=session.user_id, exchange_type=session.exchange_type, started_at__lte=session.started_at
        ).exclude(pk=session.pk)
    ).filter(has_files | has_orders | ~Q(folder=""))
    for previous in earlier:
        finish(previous)
