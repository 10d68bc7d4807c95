"""
What happens to an uploaded file between ``mode=file`` and the importer, and what
``mode=import`` answers meanwhile.

An :class:`~integration_1c.models.ExchangeFile` moves through::

    UPLOADING  chunks arrive (``mode=file``); the upload is complete once 1C asks to import
    QUEUED     handed to Celery (``shop.background.enqueue``), exactly once
    RUNNING    the worker is at it (the importer sets this and the counts)
    DONE / FAILED

An archive (kind ``archive``) takes the same path while it is unpacked: on the first
``mode=import`` after its upload, never after a chunk. Small archives are unpacked
within that call; bigger ones in a Celery task, answered ``progress`` meanwhile. Its
members become files of the session, XML ones ready to import.

No call waits for the worker: every ``mode=import`` looks at the state and answers at
once, so the client's progress loop drives the exchange and no proxy times out.
"""

import importlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integration_1c import conf
from integration_1c.models import ExchangeFile, ExchangeSession
from shop import background

from . import archives, uploads
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


# --- mode=init ------------------------------------------------------------------------


def remove_previous_folders(session):
    """
    Delete the upload folders of earlier exchanges of this type, except those holding a
    file that is queued or being imported: the importer may still read it (and the
    pictures next to it). Called from ``mode=init`` only: a folder is never cleaned
    while its own exchange goes on. Returns the removed folders.
    """
    busy = set(
        ExchangeSession.objects.filter(exchange_type=session.exchange_type, files__state__in=ACTIVE_STATES)
        .values_list("folder", flat=True)
        .distinct()
    )
    removed = [
        folder
        for folder in uploads.list_folders(session.exchange_type)
        if folder != session.folder and folder not in busy
    ]
    if removed:
        # Deleting is file by file (object by object on an object store): the 118,000
        # pictures of a big catalogue would hold init past 1C's timeout, so the worker
        # deletes what init chose.
        from integration_1c import tasks

        background.enqueue(tasks.remove_exchange_folders, removed)
    return removed


def drop_unused_checkauth_sessions(session):
    """
    Real clients call checkauth twice at the start and go on with the second cookie;
    the first exchange session is left with no folder, no file and no order. Drop such
    sessions of the same user and type from the last minutes, so the journal shows one
    row per exchange.
    """
    window_start = session.started_at - timedelta(minutes=10)
    (
        ExchangeSession.objects.filter(
            user_id=session.user_id,
            exchange_type=session.exchange_type,
            state=ExchangeSession.OPEN,
            folder="",
            started_at__gte=window_start,
            started_at__lte=session.started_at,
        )
        .exclude(pk=session.pk)
        .filter(files__isnull=True, exported_orders__isnull=True)
        .delete()
    )


# --- mode=file ------------------------------------------------------------------------


def receive_chunk(session, name, stream):
    """
    Append one POSTed chunk to file ``name`` of the session; return ``(file, size)``.
    The same name again after its import started means 1C sends a new version: the old
    content is dropped and the upload starts over.
    """
    folder = uploads.UploadFolder(session.folder)
    with transaction.atomic():
        # One chunk at a time per session: chunk numbers and sizes stay consistent.
        ExchangeSession.objects.select_for_update().get(pk=session.pk)
        exchange_file = session.files.filter(name=name).order_by("-pk").first()
        if exchange_file is not None and exchange_file.state in ACTIVE_STATES:
            raise ExchangeFailure(
                f"Файл «{name}» сейчас загружается в каталог; повторная отправка отклонена."
            )
        if exchange_file is None:
            exchange_file = ExchangeFile(session=session, name=name, kind=kind_for_upload(name))
        elif exchange_file.state != ExchangeFile.UPLOADING:
            folder.discard(name)
            _reset(exchange_file, kind_for_upload(name))
        size = folder.append(name, stream, exchange_file.chunks + 1)
        exchange_file.size += size
        exchange_file.chunks += 1
        exchange_file.uploaded_at = timezone.now()
        exchange_file.save()
    return exchange_file, size


def _reset(exchange_file, kind):
    exchange_file.kind = kind
    exchange_file.state = ExchangeFile.UPLOADING
    exchange_file.size = exchange_file.chunks = exchange_file.processed = 0
    exchange_file.created = exchange_file.updated = exchange_file.hidden = exchange_file.skipped = 0
    exchange_file.warnings = []
    exchange_file.error = exchange_file.task_id = ""
    exchange_file.started_at = exchange_file.finished_at = None


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


def queue_import(exchange_file):
    """Hand a complete upload to the worker, once, whoever asks first."""
    from integration_1c import tasks

    if _claim(exchange_file):
        background.enqueue(tasks.import_exchange_file, exchange_file.pk)
    exchange_file.refresh_from_db()
    return exchange_file


def _claim(exchange_file):
    """UPLOADING -> QUEUED for exactly one caller (two concurrent import calls queue once)."""
    return bool(
        ExchangeFile.objects.filter(pk=exchange_file.pk, state=ExchangeFile.UPLOADING).update(
            state=ExchangeFile.QUEUED, error=""
        )
    )


# --- mode=import ----------------------------------------------------------------------


def import_step(session, name):
    """One ``mode=import`` call: unpack what needs it, queue ``name``, report its state."""
    pending = _unpack_archives(session)
    if pending is not None:
        return pending
    exchange_file = session.files.filter(name=name).order_by("-pk").first()
    if exchange_file is None:
        raise ExchangeFailure(
            f"Файл «{name}» не был загружен на сайт в этом сеансе обмена (mode=file), "
            "и его нет в загруженном архиве."
        )
    if exchange_file.kind == ARCHIVE:
        return answer_for(exchange_file)  # unpacked above: nothing more to do with it
    if exchange_file.state == ExchangeFile.UPLOADING:
        exchange_file = queue_import(exchange_file)
    return answer_for(exchange_file)


def _unpack_archives(session):
    """None once every archive of the session is unpacked, else the answer to give."""
    for archive in session.files.filter(kind=ARCHIVE).exclude(state=ExchangeFile.DONE).order_by("pk"):
        if archive.state == ExchangeFile.UPLOADING and _claim(archive):
            if archive.size > INLINE_UNPACK_MAX_ARCHIVE or not unpack_archive(
                archive.pk,
                max_inline_bytes=INLINE_UNPACK_MAX_BYTES,
                max_inline_members=INLINE_UNPACK_MAX_MEMBERS,
            ):
                from integration_1c import tasks

                background.enqueue(tasks.unpack_archive, archive.pk)
            archive.refresh_from_db()
        if archive.state == ExchangeFile.FAILED:
            return Answer(FAILURE, (archive.error,))
        if archive.state != ExchangeFile.DONE:
            return Answer(PROGRESS, (f"Распаковка архива «{archive.name}»…",))
    return None


def unpack_archive(file_id, max_inline_bytes=None, max_inline_members=None):
    """
    Unpack a QUEUED archive into its session folder and register its members. Returns
    False (and leaves it QUEUED) when the ``max_inline_*`` limits say it is for the worker,
    True once it is DONE or FAILED. A second caller finds nothing to do.
    """
    now = timezone.now()
    if not ExchangeFile.objects.filter(pk=file_id, state=ExchangeFile.QUEUED).update(
        state=ExchangeFile.RUNNING, started_at=now
    ):
        return True
    archive = ExchangeFile.objects.select_related("session").get(pk=file_id)
    folder = uploads.UploadFolder(archive.session.folder)
    try:
        folder.finish(archive.name)
        members = archives.extract(
            folder, archive.name, archives.Limits.from_conf(), max_inline_bytes, max_inline_members
        )
    except archives.UnpackLater:
        ExchangeFile.objects.filter(pk=file_id).update(state=ExchangeFile.QUEUED, started_at=None)
        return False
    except archives.ArchiveRejected as exc:
        logger.warning("1C exchange: %s", exc)
        _finish(file_id, ExchangeFile.FAILED, error=str(exc))
        return True
    except Exception as exc:
        logger.exception("1C exchange: unpacking %s failed", archive.name)
        _finish(file_id, ExchangeFile.FAILED, error=f"Не удалось распаковать архив «{archive.name}»: {exc}")
        return True
    with transaction.atomic():
        _register_members(archive.session, members)
        _finish(file_id, ExchangeFile.DONE, processed=len(members))
    return True


#: Members registered per statement: a 100,000-product archive has 118,000 pictures, and
#: one model instance per member at once would take the worker over its memory budget.
REGISTER_BATCH = 2000


def _register_members(session, members):
    """One ExchangeFile per member, new or reset (the archive may repeat an earlier upload)."""
    for start in range(0, len(members), REGISTER_BATCH):
        _register_batch(session, members[start : start + REGISTER_BATCH])


def _register_batch(session, members):
    now = timezone.now()
    existing = {}
    for exchange_file in session.files.filter(name__in=[name for name, _size in members]).order_by("pk"):
        existing[exchange_file.name] = exchange_file  # the latest row of a name wins
    new, changed = [], []
    for name, size in members:
        exchange_file = existing.get(name)
        if exchange_file is None:
            exchange_file = ExchangeFile(session=session, name=name)
            new.append(exchange_file)
        else:
            changed.append(exchange_file)
        _reset(exchange_file, kind_for_member(name))
        exchange_file.size = size
        exchange_file.uploaded_at = now
    ExchangeFile.objects.bulk_create(new, batch_size=1000)
    fields = [
        "kind", "state", "size", "chunks", "processed", "created", "updated", "hidden", "skipped",
        "warnings", "error", "task_id", "started_at", "finished_at", "uploaded_at",
    ]  # fmt: skip
    ExchangeFile.objects.bulk_update(changed, fields, batch_size=1000)


def _finish(file_id, state, **fields):
    ExchangeFile.objects.filter(pk=file_id).update(state=state, finished_at=timezone.now(), **fields)


def run_import(file_id):
    """
    The worker's side of an import: join chunked uploads of the session (object
    stores), then hand the file to ``services.importer.apply_file``. The importer sets
    RUNNING, the counts and DONE/FAILED; an exception it lets out still ends as FAILED,
    so 1C never waits for a file nobody works on.
    """
    exchange_file = ExchangeFile.objects.select_related("session").filter(pk=file_id).first()
    if exchange_file is None or exchange_file.state not in ACTIVE_STATES:
        return  # a duplicate delivery, or 1C started the file over meanwhile
    try:
        uploads.UploadFolder(exchange_file.session.folder).finish_all()
        load_service("importer").apply_file(file_id)
    except Exception as exc:
        logger.exception("1C exchange: importing %s (file %s) failed", exchange_file.name, file_id)
        ExchangeFile.objects.filter(pk=file_id, state__in=ACTIVE_STATES).update(
            state=ExchangeFile.FAILED,
            error=f"Внутренняя ошибка сайта при загрузке «{exchange_file.name}»: {type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        return
    # An importer that does not track states itself: it returned, so the file is done.
    ExchangeFile.objects.filter(pk=file_id, state=ExchangeFile.QUEUED).update(
        state=ExchangeFile.DONE, finished_at=timezone.now()
    )


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
        ExchangeSession.objects.filter(files__state__in=ACTIVE_STATES).values_list("folder", flat=True)
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
