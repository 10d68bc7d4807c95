"""
What happens to an uploaded file between ``mode=file`` and the importer, and what
``mode=import`` answers meanwhile.

An :class:`~integration_1c.models.ExchangeFile` moves through::

    UPLOADING  chunks arrive (``mode=file``); the upload is complete once 1C asks to import
    QUEUED     handed to Celery (``shop.background.enqueue``), exactly once
    RUNNING    the worker is at it (the importer sets this and the counts) and holds
               a lease on the file that it renews (:class:`Lease`)
    DONE / FAILED

A worker can die at any moment (kill -9, out of memory, a host that goes away). Three
things keep 1C from waiting for ever and old work from landing late:

* the lease: a RUNNING file whose lease lapsed (conf ``ONEC_WORKER_LEASE_SECONDS``) is
  failed by the next ``mode=import`` with a reason the operator understands, and 1C
  may send it again at once (a new upload of the name is a new journal row);
* Celery's late acknowledgement and reject-on-worker-loss (``shop/settings.py``): a
  message is only gone once its task finished, so a file queued when a worker died is
  still imported;
* whatever the broker delivers is checked when it starts (:func:`run_import`): a file
  that is not QUEUED (or RUNNING with a lapsed lease), or that a newer exchange of the
  same catalogue overtook, is dropped with a journal note.

An archive (kind ``archive``) takes the same path while it is unpacked: on the first
``mode=import`` after its upload, never after a chunk. Small archives are unpacked
within that call; bigger ones in a Celery task, answered ``progress`` meanwhile. Its
members become files of the session, XML ones ready to import.

No call waits long for the worker: a ``mode=import`` whose file is still queued or being
imported (or its archive unpacked) watches the file's state for at most
``ONEC_PROGRESS_WAIT_SECONDS`` (half a second) and answers as soon as it changes, else
``progress``. 1C asks again the moment it is told ``progress``; answered at once, its
calls kept a web process and the database busy for the whole import (837 calls of a
100,000-product exchange even from a client that paused 0.1 s between them), taking
their time from the import on the same machine. The client's progress loop still
drives the exchange, and no proxy times out.
"""

import importlib
import json
import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, JSONField, Q
from django.utils import timezone

from integration_1c import conf, selectors
from integration_1c.models import ExchangeFile, ExchangeSession
from shop import background

from . import archives, packed_index, uploads
from .answers import FAILURE, PROGRESS, SUCCESS, Answer, ExchangeFailure

logger = logging.getLogger(__name__)

#: ``ExchangeFile.kind`` of what this package recognises by itself; the importer sets
#: the kind of an XML file from its content (catalogue, offers, orders, …).
ARCHIVE = "archive"
ATTACHMENT = "attachment"  # pictures and other files the XML refers to; never imported alone

ACTIVE_STATES = (ExchangeFile.QUEUED, ExchangeFile.RUNNING)

#: An archive is unpacked within the HTTP call when it is at most this big…
INLINE_UNPACK_MAX_ARCHIVE = 16 * 1024 * 1024
#: …and promises at most this many unpacked bytes and members (every member is a file
#: to create, about a millisecond each); otherwise a Celery task does it.
INLINE_UNPACK_MAX_BYTES = 64 * 1024 * 1024
INLINE_UNPACK_MAX_MEMBERS = 500

#: An open session with no call for this long is closed by the cleanup task (2.x
#: clients never send ``mode=complete``).
IDLE_SESSION = timedelta(hours=2)


def load_service(name):
    """
    ``integration_1c.services.<name>``, imported when first needed: the services are
    written separately and this package must not fail to import without them.
    """
    return importlib.import_module(f"integration_1c.services.{name}")


def kind_for_upload(name):
    lowered = name.lower()
    if lowered.endswith(".zip"):
        return ARCHIVE
    if lowered.endswith(".xml"):
        return ""
    return ATTACHMENT


def kind_for_member(name):
    """Archive members: XML is imported, everything else (even a nested zip) is an attachment."""
    return "" if name.lower().endswith(".xml") else ATTACHMENT


#: Members named so are pictures: they stay in the archive, read in place by the
#: importer (``services.images.StorageImageSource``)…
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
#: …and so are the XML files, inflated as the importer reads them
#: (``uploads.open_exchange_file``); everything else is unpacked.
PACKED_SUFFIXES = (*PICTURE_SUFFIXES, ".xml")


def leave_packed(name):
    """
    Pictures and XML files are left in the archive: unpacking 118,000 pictures took most
    of a repeat, and writing out the 630 MB of XML of a 100,000-product archive (to read
    it back at once) 1.3 s of every full exchange.
    """
    return name.lower().endswith(PACKED_SUFFIXES)


# --- mode=init ------------------------------------------------------------------------


#: How often ``mode=init`` asks the worker for the age-based cleanup (:func:`cleanup`),
#: for sites that run no Celery beat (the embedded default).
CLEANUP_EVERY = 60 * 60
CLEANUP_KEY = "onec:exchange-cleanup"


def schedule_cleanup():
    """
    Ask the worker to remove old exchange folders, at most once per :data:`CLEANUP_EVERY`.
    ``mode=init`` never deletes a folder itself: another exchange (another 1C node, a
    client between two files) may still be using any folder but its own, and only age
    tells that it is over. Best effort: a cache or broker that is down skips it.
    """
    from django.core.cache import cache

    from integration_1c import tasks

    try:
        if cache.add(CLEANUP_KEY, 1, CLEANUP_EVERY):
            background.enqueue(tasks.cleanup_exchange_folders)
    except Exception:
        logger.warning("1C exchange: could not schedule the folder cleanup", exc_info=True)


def drop_unused_checkauth_sessions(session):
    """
    Real clients call checkauth twice at the start and go on with the second cookie;
    the first exchange session is left with no folder, no file and no order. Drop such
    sessions of the same user, type and client (address and agent) from the last
    minutes, so the journal shows one row per exchange.
    """
    window_start = session.started_at - timedelta(minutes=2)
    (
        ExchangeSession.objects.filter(
            user_id=session.user_id,
            exchange_type=session.exchange_type,
            state=ExchangeSession.OPEN,
            folder="",
            started_at__gte=window_start,
            started_at__lte=session.started_at,
            # The same client: another 1C node of the same user keeps its session.
            remote_addr=session.remote_addr,
            user_agent=session.user_agent,
        )
        .exclude(pk=session.pk)
        .filter(files__isnull=True, exported_orders__isnull=True)
        .delete()
    )


# --- mode=file ------------------------------------------------------------------------


def receive_chunk(session, name, request):
    """
    Append the chunk POSTed in ``request`` to file ``name`` of the session; return
    ``(file, size)``. The same name again after its import started means 1C sends a new
    version: the old content is dropped and the upload starts over.

    A chunk is refused, and nothing of it kept, when it is bigger than the announced
    ``file_limit`` (plus conf ``ONEC_FILE_LIMIT_MARGIN``), would take the file past conf
    ``ONEC_MAX_FILE_SIZE`` or the run past ``ONEC_MAX_SESSION_UPLOAD``, does not arrive
    whole, or does not fit on the disk.
    """
    try:
        return _receive_chunk(session, name, request)
    except uploads.UploadRefused as exc:
        logger.warning("1C exchange: chunk of %s refused: %s", name, exc)
        raise ExchangeFailure(str(exc)) from exc


def _receive_chunk(session, name, request):
    folder = uploads.UploadFolder(session.folder)
    with transaction.atomic():
        # One chunk at a time per session: chunk numbers and sizes stay consistent.
        ExchangeSession.objects.select_for_update().get(pk=session.pk)
        exchange_file = session.files.filter(name=name).order_by("-pk").first()
        if exchange_file is not None and exchange_file.state in ACTIVE_STATES:
            exchange_file = check_worker(exchange_file)
        if exchange_file is not None and exchange_file.state in ACTIVE_STATES:
            raise ExchangeFailure(
                f"Файл «{name}» сейчас загружается в каталог; повторная отправка отклонена."
            )
        if exchange_file is None or exchange_file.state != ExchangeFile.UPLOADING:
            if exchange_file is not None:
                # A new version: a new journal row, so that a late write of the old
                # attempt (a worker that lost its lease) can never touch the new upload.
                folder.discard(name)
            exchange_file = ExchangeFile(session=session, name=name, kind=kind_for_upload(name))
        # Sent on its own, a picture an archive had left packed is now the file on disk.
        exchange_file.packed = None
        body = uploads.RequestBody(request, name, _chunk_limit(session, exchange_file, name))
        uploads.check_free_space(folder.storage, body.expected, int(conf.get("ONEC_MIN_FREE_DISK")), name)
        size = folder.append(name, body, exchange_file.chunks + 1)
        exchange_file.size += size
        exchange_file.chunks += 1
        exchange_file.uploaded_at = timezone.now()
        exchange_file.save()
    return exchange_file, size


def _chunk_limit(session, exchange_file, name):
    """The most bytes this POST may carry, or :class:`~.uploads.UploadRefused` when none."""
    from django.db.models import Sum

    per_call = int(conf.get("ONEC_FILE_LIMIT")) + int(conf.get("ONEC_FILE_LIMIT_MARGIN"))
    file_left = int(conf.get("ONEC_MAX_FILE_SIZE")) - exchange_file.size
    run_total = ExchangeFile.objects.filter(session_id=session.pk).exclude(pk=exchange_file.pk).aggregate(
        total=Sum("size")
    )["total"] or 0
    run_left = int(conf.get("ONEC_MAX_SESSION_UPLOAD")) - run_total - exchange_file.size
    if file_left <= 0:
        raise uploads.UploadRefused(
            f"Файл «{name}» больше предельного размера {conf.get('ONEC_MAX_FILE_SIZE')} байт"
            " (настройка сайта ONEC_MAX_FILE_SIZE): не принят."
        )
    if run_left <= 0:
        raise uploads.UploadRefused(
            f"Обмен превысил предельный объём файлов {conf.get('ONEC_MAX_SESSION_UPLOAD')} байт"
            f" (настройка сайта ONEC_MAX_SESSION_UPLOAD): файл «{name}» не принят."
        )
    return min(per_call, file_left, run_left)


def _reset(exchange_file, kind):
    exchange_file.kind = kind
    exchange_file.state = ExchangeFile.UPLOADING
    exchange_file.size = exchange_file.chunks = exchange_file.processed = 0
    exchange_file.created = exchange_file.updated = exchange_file.hidden = exchange_file.skipped = 0
    exchange_file.warnings = []
    exchange_file.error = exchange_file.task_id = exchange_file.catalogue_code = ""
    exchange_file.started_at = exchange_file.finished_at = exchange_file.lease_until = None


def is_complete_chunk(size):
    """A chunk smaller than ``file_limit`` is the last one of its file."""
    return size < int(conf.get("ONEC_FILE_LIMIT"))


def apply_now(exchange_file):
    """
    Import a complete upload within this call (``type=sale&mode=file``: older clients
    expect the documents applied before the answer). Returns the file, refreshed.
    """
    if _claim(exchange_file):
        run_import(exchange_file.pk)
    exchange_file.refresh_from_db()
    return exchange_file


QUEUE_DOWN = (
    "Очередь загрузки на сайте недоступна (не отвечает брокер задач Redis): файл «{name}» не поставлен"
    " в очередь и не загружен, каталог не изменён. Повторите обмен позже — файл можно отправить снова."
)


def queue_import(exchange_file):
    """
    Hand a complete upload to the worker, once, whoever asks first. A broker that
    refuses fails the file at once with the reason (nothing stays "queued" that no
    worker will ever see); 1C may send it again.
    """
    from integration_1c import tasks

    if _claim(exchange_file):
        send(tasks.import_exchange_file, exchange_file, QUEUE_DOWN)
    exchange_file.refresh_from_db()
    return exchange_file


def send(task, exchange_file, reason):
    """
    Send ``task`` for a file just claimed; on a broker error fail the file with
    ``reason`` and raise :class:`ExchangeFailure`. Called outside any transaction, so
    the message leaves now and its failure is seen here.
    """
    try:
        background.enqueue(task, exchange_file.pk)
    except Exception as exc:
        logger.error("1C exchange: could not queue %s (file %s): %r", task.name, exchange_file.pk, exc)
        message = reason.format(name=exchange_file.name)
        _finish(exchange_file.pk, ExchangeFile.FAILED, error=message)
        raise ExchangeFailure(message) from exc


def _claim(exchange_file):
    """UPLOADING -> QUEUED for exactly one caller (two concurrent import calls queue once)."""
    return bool(
        ExchangeFile.objects.filter(pk=exchange_file.pk, state=ExchangeFile.UPLOADING).update(
            state=ExchangeFile.QUEUED, error=""
        )
    )


# --- mode=import ----------------------------------------------------------------------


def import_step(session, name):
    """
    One ``mode=import`` call: unpack what needs it, queue ``name``, report its state —
    once the worker's file (or archive) changed state, or after
    ``ONEC_PROGRESS_WAIT_SECONDS`` (the module docstring).
    """
    deadline = time.monotonic() + progress_wait()
    while True:
        answer, waiting_for = _step(session, name)
        if answer.status != PROGRESS or waiting_for is None:
            return answer
        if not wait_for_change(waiting_for, deadline):
            return answer


def _step(session, name):
    """The answer as things stand, and the worker's file it waits for (None: nothing to wait for)."""
    pending, archive = _unpack_archives(session)
    if pending is not None:
        return pending, archive
    exchange_file = session.files.filter(name=name).order_by("-pk").first()
    if exchange_file is None:
        raise ExchangeFailure(
            f"Файл «{name}» не был загружен на сайт в этом сеансе обмена (mode=file), "
            "и его нет в загруженном архиве."
        )
    if exchange_file.kind == ARCHIVE:
        return answer_for(exchange_file), None  # unpacked above: nothing more to do with it
    if exchange_file.state == ExchangeFile.UPLOADING:
        exchange_file = queue_import(exchange_file)
    exchange_file = check_worker(exchange_file)
    return answer_for(exchange_file), exchange_file if exchange_file.state in ACTIVE_STATES else None


def progress_wait():
    """Seconds a ``mode=import`` call may watch a file the worker has (conf, 0: answer at once)."""
    return max(float(conf.get("ONEC_PROGRESS_WAIT_SECONDS")), 0.0)


#: How often a waiting call reads the file's state: one indexed row, 20 times a second.
PROGRESS_CHECK_SECONDS = 0.05


def wait_for_change(exchange_file, deadline):
    """
    Watch ``exchange_file`` (as read last) until its state or attempt changes or
    ``deadline`` (``time.monotonic()``) passes; True if it changed. A lease that lapses
    meanwhile is not a change: the next call's :func:`check_worker` finds it.
    """
    seen = (exchange_file.state, exchange_file.attempt)
    rows = ExchangeFile.objects.filter(pk=exchange_file.pk).values_list("state", "attempt")
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(PROGRESS_CHECK_SECONDS, left))
        current = rows.first()
        if current != seen:
            return True
    return False


# --- the worker's lease ---------------------------------------------------------------

WORKER_LOST = (
    "Загрузка файла «{name}» прервалась: обработчик загрузок на сайте (Celery worker) перестал"
    " отвечать {seconds} с назад — процесс был остановлен или перезапущен. Файл не загружен, каталог"
    " не изменён. Отправьте файл снова (можно сразу)."
)
NEVER_STARTED = (
    "Файл «{name}» ждал загрузки дольше {minutes} мин: на сайте не работает обработчик загрузок"
    " (Celery worker). Файл не загружен, каталог не изменён. Запустите обработчик и отправьте файл снова."
)


def lease_seconds():
    return float(conf.get("ONEC_WORKER_LEASE_SECONDS"))


def leases_enabled():
    """
    Leases need a second connection writing while the import's transaction is open:
    PostgreSQL (production). The embedded SQLite default runs imports in a thread of the
    web process, which cannot die alone, and SQLite would block the renewals.
    """
    return connection.vendor != "sqlite"


def check_worker(exchange_file, now=None):
    """
    Fail a RUNNING file whose worker's lease lapsed, and a QUEUED file no worker took
    within conf ``ONEC_QUEUE_TIMEOUT_SECONDS``. Returns the file, refreshed when changed.
    The update is conditional: a worker that renews at the same moment wins.
    """
    now = now or timezone.now()
    state = exchange_file.state
    if state == ExchangeFile.RUNNING and exchange_file.lease_until and exchange_file.lease_until < now:
        seconds = int((now - exchange_file.lease_until).total_seconds() + lease_seconds())
        error = WORKER_LOST.format(name=exchange_file.name, seconds=seconds)
        changed = ExchangeFile.objects.filter(
            pk=exchange_file.pk, state=state, attempt=exchange_file.attempt, lease_until__lt=now
        ).update(state=ExchangeFile.FAILED, error=error, finished_at=now, lease_until=None)
    elif state == ExchangeFile.QUEUED:
        timeout = timedelta(seconds=float(conf.get("ONEC_QUEUE_TIMEOUT_SECONDS")))
        if exchange_file.uploaded_at >= now - timeout:
            return exchange_file
        error = NEVER_STARTED.format(name=exchange_file.name, minutes=int(timeout.total_seconds() // 60))
        changed = ExchangeFile.objects.filter(
            pk=exchange_file.pk, state=state, uploaded_at__lt=now - timeout
        ).update(state=ExchangeFile.FAILED, error=error, finished_at=now)
    else:
        return exchange_file
    if changed:
        logger.error("1C exchange: file %s (%s): %s", exchange_file.pk, exchange_file.name, error)
        _note_safely(exchange_file.session, "import", error)
    exchange_file.refresh_from_db()
    return exchange_file


def _note_safely(session, mode, message):
    from . import sessions

    try:
        sessions.note(session, mode, message)
    except DatabaseError:
        logger.exception("Could not record a note in the exchange journal")


class Lease:
    """
    The worker's hold on a RUNNING file: a thread renews ``lease_until`` every third of
    conf ``ONEC_WORKER_LEASE_SECONDS`` on its own database connection (the import's
    transaction stays open meanwhile). When the worker process dies, the renewals stop
    and the lease lapses: that is how the web side notices a dead worker.
    """

    def __init__(self, file_id, attempt):
        self.file_id = file_id
        self.attempt = attempt
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{file_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=10)

    def _renew(self):
        interval = max(lease_seconds() / 3, 0.05)
        try:
            while not self._stop.wait(interval):
                try:
                    renewed = ExchangeFile.objects.filter(
                        pk=self.file_id, attempt=self.attempt, state=ExchangeFile.RUNNING
                    ).update(lease_until=timezone.now() + timedelta(seconds=lease_seconds()))
                except DatabaseError:
                    logger.warning("1C exchange: renewing the lease of file %s failed", self.file_id, exc_info=True)
                    continue
                if not renewed:
                    self.lost = not self._stop.is_set()
                    return
        finally:
            connection.close()


def _unpack_archives(session):
    """
    ``(None, None)`` once every archive of the session is unpacked, else the answer to
    give and the archive the worker unpacks (None when there is nothing to wait for).
    """
    latest = {}
    for archive in session.files.filter(kind=ARCHIVE).order_by("pk"):
        latest[archive.name] = archive  # a re-sent archive replaces its failed upload
    for archive in sorted(latest.values(), key=lambda archive: archive.pk):
        if archive.state == ExchangeFile.DONE:
            continue
        if archive.state == ExchangeFile.UPLOADING and _claim(archive):
            if archive.size > INLINE_UNPACK_MAX_ARCHIVE or not unpack_archive(
                archive.pk,
                max_inline_bytes=INLINE_UNPACK_MAX_BYTES,
                max_inline_members=INLINE_UNPACK_MAX_MEMBERS,
            ):
                from integration_1c import tasks

                send(tasks.unpack_archive, archive, QUEUE_DOWN)
            archive.refresh_from_db()
        archive = check_worker(archive)  # the unpacking worker may have died too
        if archive.state == ExchangeFile.FAILED:
            return Answer(FAILURE, (archive.error,)), None
        if archive.state != ExchangeFile.DONE:
            unpacking = archive if archive.state in ACTIVE_STATES else None
            return Answer(PROGRESS, (f"Распаковка архива «{archive.name}»…",)), unpacking
    return None, None


def unpack_archive(file_id, max_inline_bytes=None, max_inline_members=None):
    """
    Unpack a QUEUED archive into its session folder and register its members. Returns
    False (and leaves it QUEUED) when the ``max_inline_*`` limits say it is for the worker,
    True once it is DONE or FAILED. A second caller finds nothing to do.
    """
    now = timezone.now()
    lease_until = now + timedelta(seconds=lease_seconds()) if leases_enabled() else None
    if not ExchangeFile.objects.filter(pk=file_id, state=ExchangeFile.QUEUED).update(
        state=ExchangeFile.RUNNING, started_at=now, lease_until=lease_until, attempt=F("attempt") + 1
    ):
        return True
    archive = ExchangeFile.objects.select_related("session").get(pk=file_id)
    folder = uploads.UploadFolder(archive.session.folder)
    try:
        with Lease(file_id, archive.attempt) if lease_until else _no_lease():
            folder.finish(archive.name)
            # The members' rows are written as they are unpacked, in one transaction
            # with the archive's DONE: a refused archive registers nothing. Rows of the
            # same names are looked for only where there can be some: in a session that
            # had files before this archive, or for the names the archive repeats.
            earlier = archive.session.files.exclude(pk=archive.pk).exists()
            pictures = _PackedPictures(folder, archive)
            try:
                with transaction.atomic():
                    count = archives.extract(
                        folder,
                        archive.name,
                        archives.Limits.from_conf(),
                        max_inline_bytes,
                        max_inline_members,
                        leave_packed=leave_packed,
                        register=lambda batch, repeated: _register_batch(
                            archive.session, batch, None if earlier else repeated, pictures, repeated
                        ),
                        batch=REGISTER_BATCH,
                    )
                    _finish(file_id, ExchangeFile.DONE, processed=count, packed_members=pictures.commit())
            except BaseException:
                pictures.discard()
                raise
    except archives.UnpackLater:
        ExchangeFile.objects.filter(pk=file_id).update(state=ExchangeFile.QUEUED, started_at=None, lease_until=None)
        return False
    except archives.ArchiveRejected as exc:
        logger.warning("1C exchange: %s", exc)
        _finish(file_id, ExchangeFile.FAILED, error=str(exc))
        return True
    except Exception as exc:
        logger.exception("1C exchange: unpacking %s failed", archive.name)
        _finish(file_id, ExchangeFile.FAILED, error=f"Не удалось распаковать архив «{archive.name}»: {exc}")
        return True
    return True


#: Members registered per statement: a 100,000-product archive has 118,000 pictures, and
#: one model instance per member at once would take the worker over its memory budget.
REGISTER_BATCH = 2000


class _PackedPictures:
    """
    The pictures an archive leaves packed, written to its index
    (:mod:`.packed_index`) instead of a journal row each; the index is made at the first
    such picture and put in place with the archive's DONE.
    """

    def __init__(self, folder, archive):
        self.folder = folder
        self.archive = archive
        self.writer = None

    @staticmethod
    def takes(name, packed):
        """A picture left packed (members are left packed on a local disk only)."""
        return packed is not None and kind_for_member(name) == ATTACHMENT

    def add(self, members):
        if self.writer is None:
            path = packed_index.index_path(self.folder.storage, self.folder.folder, self.archive.pk)
            self.writer = packed_index.IndexWriter(path)
        self.writer.add(members)

    def forget(self, names):
        if self.writer is not None and names:
            self.writer.forget(names)

    def commit(self):
        """How many pictures the index holds (an archive unpacked again replaces its index)."""
        if self.writer is None:
            return 0
        self.writer.commit()
        return self.writer.count

    def discard(self):
        if self.writer is not None:
            self.writer.discard()


def _register_batch(session, members, lookup=None, pictures=None, repeated=()):
    """
    One ExchangeFile per member, new or reset (the archive may repeat an earlier upload),
    but for the pictures left packed, which go to the archive's index (``pictures``,
    :class:`_PackedPictures`): the latest upload of a name wins, and the archive's
    journal row stands for them (``services.images.StorageImageSource``).
    ``lookup``: the names that may have a row already (default: every member's); an
    archive unpacked into a session of its own registers 118,000 pictures, and looking
    each name up first cost a tenth of the unpacking. ``repeated``: the names of the
    batch the archive gave before, whose last copy is the one that counts.
    """
    if pictures is not None:
        packed, rows = [], []
        for name, size, place in members:
            if pictures.takes(name, place):
                packed.append((name, place))
            else:
                rows.append((name, size, place))
        if packed:
            pictures.add(packed)
            members = rows
            again = [name for name, _place in packed if name in repeated]
            if again:  # unpacked earlier in the archive, packed in its last copy: the row goes
                session.files.filter(name__in=again, pk__gt=pictures.archive.pk).delete()
            if lookup is not None:
                lookup = set(lookup) - {name for name, _place in packed}
        # Packed earlier in the archive, unpacked in its last copy: its row counts, not the index.
        pictures.forget([name for name, _size, _place in members if name in repeated])
    now = timezone.now()
    names = [name for name, *_ in members] if lookup is None else list(lookup)
    existing = {}
    if names:
        for exchange_file in ExchangeFile.objects.filter(
            pk__in=[pk for pk, *_ in selectors.session_files_named(session.pk, names)]
        ).order_by("pk"):
            existing[exchange_file.name] = exchange_file  # the latest row of a name wins
    new, changed = [], []
    for name, size, packed in members:
        exchange_file = existing.get(name)
        if exchange_file is None:
            new.append({"name": name, "kind": kind_for_member(name), "size": size, "packed": packed})
            continue
        packed = packed.as_json() if packed is not None else None
        changed.append(_registered(exchange_file, kind_for_member(name), size, packed, now))
    _insert(session, new, now)
    fields = [
        "kind", "state", "size", "chunks", "processed", "created", "updated", "hidden", "skipped",
        "warnings", "error", "task_id", "started_at", "finished_at", "uploaded_at", "lease_until",
        "catalogue_code", "packed",
    ]  # fmt: skip
    ExchangeFile.objects.bulk_update(changed, fields, batch_size=1000)


def _insert(session, members, now):
    """
    New journal rows for ``members`` (dicts of name, kind, size and
    :class:`~.archives.Packed` or None), by ``COPY``
    on PostgreSQL: an archive of 100,000 products has 118,000 pictures, and Django's
    ``bulk_create`` spent a fifth of a millisecond on each (25 s of every exchange)
    preparing values that are the same for all but four columns. Those are taken from
    one new row made once, not from a model instance per member.
    """
    if not members:
        return
    if connection.vendor != "postgresql":
        ExchangeFile.objects.bulk_create(
            [
                _registered(
                    ExchangeFile(session=session, name=m["name"]),
                    m["kind"],
                    m["size"],
                    m["packed"].as_json() if m["packed"] is not None else None,
                    now,
                )
                for m in members
            ],
            batch_size=1000,
        )
        return
    template = _registered(ExchangeFile(session=session), kind="", size=0, packed=None, now=now)
    fields = [field for field in ExchangeFile._meta.concrete_fields if not field.primary_key]
    json_fields = {field.attname for field in fields if isinstance(field, JSONField)}
    base = {
        field.attname: _copy_value(getattr(template, field.attname), field.attname in json_fields)
        for field in fields
    }
    attnames = [field.attname for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(ExchangeFile._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy_in:
        for member in members:
            packed = member["packed"]
            row = {**base, **member, "packed": packed.as_json_text() if packed is not None else None}
            copy_in.write_row([row[attname] for attname in attnames])


def _registered(exchange_file, kind, size, packed, now):
    """An archive member's row as unpacking leaves it: reset, its size and place in the archive."""
    _reset(exchange_file, kind)
    exchange_file.size, exchange_file.packed, exchange_file.uploaded_at = size, packed, now
    return exchange_file


def _copy_value(value, is_json):
    if is_json:
        return None if value is None else json.dumps(value, ensure_ascii=False)
    return value


def _finish(file_id, state, **fields):
    ExchangeFile.objects.filter(pk=file_id).update(state=state, finished_at=timezone.now(), **fields)


STALE = (
    "Загрузка «{name}» отброшена: она началась позже, чем новый обмен того же каталога"
    " ({newer:%d.%m.%Y %H:%M:%S}); устаревшие данные не записаны поверх новых."
)
REDIS_DOWN = (
    "Файл «{name}» не загружен: на сайте недоступен Redis (кэш или брокер задач). Каталог не изменён;"
    " повторите обмен позже."
)


def run_import(file_id):
    """
    The worker's side of an import (any delivery of the task, first or repeated):
    claim the file with a new lease, drop it when a newer exchange of the same catalogue
    overtook it, join chunked uploads (object stores), then hand it to
    ``services.importer.apply_file`` while the lease is renewed. The importer sets the
    counts and DONE/FAILED; an exception it lets out still ends as FAILED, so 1C never
    waits for a file nobody works on.
    """
    now = timezone.now()
    claimable = Q(state=ExchangeFile.QUEUED) | Q(state=ExchangeFile.RUNNING, lease_until__lt=now)
    lease_until = now + timedelta(seconds=lease_seconds()) if leases_enabled() else None
    if not ExchangeFile.objects.filter(claimable, pk=file_id).update(
        state=ExchangeFile.RUNNING, lease_until=lease_until, attempt=F("attempt") + 1, started_at=now
    ):
        # DONE/FAILED, started over by 1C, or held by a live worker: a repeated delivery.
        logger.info("1C exchange: file %s is not waiting for a worker; delivery dropped", file_id)
        return
    exchange_file = ExchangeFile.objects.select_related("session").get(pk=file_id)
    try:
        folder = uploads.UploadFolder(exchange_file.session.folder)
        folder.finish_all()
        if _drop_if_stale(exchange_file, folder):
            return
        with Lease(file_id, exchange_file.attempt) if leases_enabled() else _no_lease():
            load_service("importer").apply_file(file_id)
    except Exception as exc:
        logger.exception("1C exchange: importing %s (file %s) failed", exchange_file.name, file_id)
        ExchangeFile.objects.filter(pk=file_id, state__in=ACTIVE_STATES, attempt=exchange_file.attempt).update(
            state=ExchangeFile.FAILED, error=_worker_error(exc, exchange_file.name), finished_at=timezone.now()
        )
        return
    # An importer that does not track states itself: it returned, so the file is done.
    ExchangeFile.objects.filter(pk=file_id, state__in=ACTIVE_STATES, attempt=exchange_file.attempt).update(
        state=ExchangeFile.DONE, finished_at=timezone.now()
    )


class _no_lease:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def _worker_error(exc, name):
    """The operator's reason for an exception out of the importer: no hosts, no driver texts."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a dependency
        RedisError = ()
    if isinstance(exc, RedisError):
        return REDIS_DOWN.format(name=name)
    if isinstance(exc, DatabaseError):
        return f"Файл «{name}» не загружен: база данных сайта не ответила. Каталог не изменён; повторите обмен позже."
    return (
        f"Внутренняя ошибка сайта при загрузке «{name}» ({type(exc).__name__}); каталог не изменён."
        " Подробности записаны в журнал сайта."
    )


def catalogue_code(exchange_file, folder):
    """Каталог/Ид or ИдКаталога of an uploaded XML file ('' when it names none or is unreadable)."""
    if exchange_file.kind in (ARCHIVE, ATTACHMENT):
        return ""
    try:
        from integration_1c.commerceml import reader

        with folder.open_stored(exchange_file) as stored:
            document = reader.read_document(stored, name=exchange_file.name)
    except Exception:  # the importer reports an unreadable file with its own reason
        return ""
    return (document.catalogue_id or "")[:255]


def _drop_if_stale(exchange_file, folder):
    """
    True (and the file FAILED with a journal note) when an exchange newer than this
    file's own began importing the same catalogue — the broker may deliver a task hours
    late (a worker killed without acknowledging it), and its data must not overwrite
    newer data. Files that name no catalogue (order documents) compare with the newer
    exchanges of the same 1C user.
    """
    session = exchange_file.session
    code = catalogue_code(exchange_file, folder)
    ExchangeFile.objects.filter(pk=exchange_file.pk).update(catalogue_code=code)
    newer = (
        ExchangeFile.objects.filter(
            session__exchange_type=session.exchange_type,
            session__started_at__gt=session.started_at,
            started_at__isnull=False,
            catalogue_code=code,
        )
        .exclude(session_id=session.pk)
        .exclude(kind__in=(ARCHIVE, ATTACHMENT))
    )
    if not code:
        newer = newer.filter(session__user_id=session.user_id)
    overtaking = newer.order_by("session__started_at").values_list("session__started_at", flat=True).first()
    if overtaking is None:
        return False
    message = STALE.format(name=exchange_file.name, newer=timezone.localtime(overtaking))
    logger.warning("1C exchange: file %s: %s", exchange_file.pk, message)
    _finish(exchange_file.pk, ExchangeFile.FAILED, error=message, lease_until=None)
    _note_safely(session, "import", message)
    return True


def answer_for(exchange_file):
    """What ``mode=import`` answers for a file in its current state."""
    state = exchange_file.state
    if state == ExchangeFile.DONE:
        return Answer(SUCCESS)
    if state == ExchangeFile.FAILED:
        return Answer(FAILURE, (exchange_file.error or f"Файл «{exchange_file.name}» не загружен.",))
    if state == ExchangeFile.RUNNING:
        return Answer(PROGRESS, (f"Файл «{exchange_file.name}»: {progress_text(exchange_file)}",))
    return Answer(PROGRESS, (f"Файл «{exchange_file.name}» ждёт очереди на загрузку",))


def progress_text(exchange_file):
    """How far the importer got, as the importer reports it (``read_progress``)."""
    try:
        progress = load_service("importer").read_progress(exchange_file)
    except Exception:  # the journal and the loop must work whatever the importer does
        logger.debug("read_progress failed for file %s", exchange_file.pk, exc_info=True)
        progress = exchange_file.processed
    if isinstance(progress, int):
        return f"обработано записей: {progress}"
    return str(progress)


# --- housekeeping ---------------------------------------------------------------------


def cleanup(now=None):
    """
    The periodic cleanup (``tasks.cleanup_exchange_folders``):

    * a file queued or importing for longer than conf ``ONEC_KEEP_EXCHANGE_HOURS`` is
      failed (its worker is gone), so its folder can go;
    * open sessions idle for :data:`IDLE_SESSION` are closed for the journal;
    * upload folders older than ``ONEC_KEEP_EXCHANGE_HOURS`` without an active file are
      deleted;
    * expired Django sessions are cleared (1C logs in for every exchange, and nothing
      else clears the session table).

    Returns the removed folders.
    """
    now = now or timezone.now()
    keep = timedelta(hours=float(conf.get("ONEC_KEEP_EXCHANGE_HOURS")))
    cutoff = now - keep
    ExchangeFile.objects.filter(state__in=ACTIVE_STATES, uploaded_at__lt=cutoff).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=cutoff)
    ).update(
        state=ExchangeFile.FAILED,
        error=f"Загрузка не завершилась за {conf.get('ONEC_KEEP_EXCHANGE_HOURS')} ч и снята с очереди.",
        finished_at=now,
    )
    _close_idle_sessions(now)
    removed = []
    busy = set(
        ExchangeSession.objects.filter(
            Q(files__state__in=ACTIVE_STATES) | Q(state=ExchangeSession.OPEN, last_seen_at__gte=cutoff)
        ).values_list("folder", flat=True)
    )
    for exchange_type, _label in ExchangeSession.TYPE_CHOICES:
        for folder in uploads.list_folders(exchange_type):
            started = uploads.folder_started_at(folder) or _modified_at(folder)
            if started is None or started >= cutoff or folder in busy:
                continue
            uploads.remove_tree(folder)
            removed.append(folder)
    _clear_expired_django_sessions()
    return removed


def _clear_expired_django_sessions():
    engine = importlib.import_module(settings.SESSION_ENGINE)
    try:
        engine.SessionStore.clear_expired()
    except NotImplementedError:  # e.g. the cache backend expires on its own
        pass


def _close_idle_sessions(now):
    idle = ExchangeSession.objects.filter(state=ExchangeSession.OPEN, last_seen_at__lt=now - IDLE_SESSION)
    idle = idle.exclude(files__state__in=ACTIVE_STATES)
    failed = set(idle.filter(files__state=ExchangeFile.FAILED).values_list("pk", flat=True))
    for session in idle.only("pk", "last_seen_at"):
        state = ExchangeSession.FAILED if session.pk in failed else ExchangeSession.COMPLETE
        ExchangeSession.objects.filter(pk=session.pk).update(state=state, finished_at=session.last_seen_at)


def _modified_at(folder):
    try:
        return uploads.exchange_storage().get_modified_time(folder)
    except (NotImplementedError, OSError):
        return None
