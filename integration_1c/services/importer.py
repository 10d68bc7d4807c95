"""
Applying one 1C file to the shop: the entry point of the catalogue import.

``apply_file(exchange_file_id)`` is what the Celery task calls for a file 1C uploaded;
``apply_path(path)`` does the same for a file on disk (``import_1c_folder``). Both
stream the file through the CommerceML reader and hand its records, in batches of conf
``ONEC_BATCH_SIZE``, to the writers of this package:

* Группа -> :class:`.catalogue.CategoryWriter`, Свойство / ЕдиницаИзмерения ->
  :class:`.attributes.AttributeIndex`, Товар -> :class:`.catalogue.ProductWriter`
  (+ :class:`.images.ImageWriter`);
* ТипЦены, Склад, Предложение -> :mod:`.offers` (stock rule in :mod:`.stock`);
* order documents -> ``services.orders.apply_order_documents`` (the orders side).

Records are routed by their type, not by the file's kind, because 1C mixes them: a 3.1
classifier carries price types and warehouses, a 2.09 split offers file a classifier.
The file's kind decides only what "not listed" means at the end of a FULL package
(``СодержитТолькоИзменения="false"``), always within the file's own catalogue
(``Каталог/Ид``, ``ИдКаталога``) and classifier, as 1C-Bitrix does per catalogue: a full
classifier/catalogue hides the groups of its classifier it left out (if it listed any),
a full catalogue hides — or keeps, or zeroes the stock of: conf
``ONEC_FULL_PACKAGE_MISSING`` — the products of its catalogue it left out (if it listed
any), a full offers package that carried stock zeroes the stock of the offers of its
catalogue it left out (unless the setting is ``keep``). A package of changes never
hides. "Left out" counts from the start of the exchange run
(:func:`integration_1c.selectors.run_started_at`) for products and groups, so a package
1C split into several files, logging in again for each, hides nothing another of its
files listed; the stock of offers is zeroed per file.

The whole file is applied in ONE transaction: a file that fails half-way (a truncated
XML, a value the database refuses) leaves the catalogue exactly as it was, and 1C sends
it again. Applying the same file twice gives the same catalogue (everything is keyed by
1C Ид). Imports are serialised (an advisory lock on PostgreSQL) so two workers never
interleave two files of one exchange.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.core.cache import cache
from django.core.files.storage import storages
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from integration_1c.commerceml import reader
from integration_1c.commerceml import records as rec
from integration_1c.models import ExchangeFile
from integration_1c.protocol.archives import DamagedMember, Packed, PackedReader
from integration_1c.selectors import run_started_at
from integration_1c.signals import catalogue_changed, catalogue_import_started, deferred_work_due
from shop import background
from shop.memory import frozen_during

from . import stock
from .attributes import AttributeIndex
from .bulk import (
    InsertConflict,
    WriteBehind,
    plain_inserts,
    prefer_indexes,
    references_checked_per_statement,
)
from .catalogue import (
    KEEP,
    CategoryWriter,
    ProductWriter,
    apply_missing_products,
    forget_category_urls,
    HIDE,
    full_package_missing,
    record_catalogue,
    untouched_products,
    refresh_category_hierarchy,
)
from .content import fit as fit_to_shop
from .context import ImportContext, ImportFailed
from .images import DirectoryImageSource, ImageWriter, StorageImageSource
from .journal import ImportProgress
from .offers import OfferWriter, PriceTypeIndex, WarehouseIndex
from .reading import (
    can_fork,
    file_size,
    read_ahead,
    read_ahead_depth,
    read_in_process,
    read_spooled,
    spooled,
    start_reading_ahead,
)
from .report import ImportReport

logger = logging.getLogger(__name__)

PROGRESS_TIMEOUT = 3600
#: pg_advisory_xact_lock key: one import at a time.
IMPORT_LOCK_KEY = 0x1C_1C_0001

DATA_ERRORS = (reader.CommerceMLError, reader.UnsafeXMLError, ImportFailed)


def progress_key(file_id):
    return f"onec:progress:{file_id}"


def read_progress(exchange_file):
    """Records applied so far: live from the cache while the file runs, else the stored count."""
    if exchange_file.state == ExchangeFile.RUNNING:
        value = cache.get(progress_key(exchange_file.pk))
        if value is not None:
            return int(value)
    return exchange_file.processed


# -- routing records to writers ----------------------------------------------------------------


class RecordApplier:
    """Feeds one file's record stream to the writers, a batch at a time."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.categories = CategoryWriter(ctx)
        self.price_types = PriceTypeIndex(ctx)
        self.warehouses = WarehouseIndex(ctx)
        self._attributes = None
        self._products = None
        self._images = None
        self._offers = None
        self._pending = []
        self._pending_type = None

    @property
    def attributes(self):
        if self._attributes is None:
            self._attributes = AttributeIndex(self.ctx)
        return self._attributes

    @property
    def products(self):
        if self._products is None:
            self._images = ImageWriter(self.ctx, self.ctx.images)
            self._products = ProductWriter(self.ctx, self.attributes, self._images)
        return self._products

    @property
    def offers(self):
        if self._offers is None:
            self._offers = OfferWriter(self.ctx, self.price_types, self.warehouses, self.attributes)
        return self._offers

    def apply(self, stream):
        """Apply the file's records; returns its Document. The pictures are on disk when it returns."""
        with self.closing():
            return self.read(stream)

    @contextmanager
    def closing(self):
        """
        :meth:`close` when the block ends — as failed if it raised. The importer reads the
        file and refreshes the listing within the block: the picture process places the
        last batch's pictures meanwhile, and their image rows are written at the end.
        """
        try:
            yield self
        except BaseException:
            self.close(failed=True)
            raise
        self.close()

    def read(self, stream):
        """Apply the file's records, all but the image rows of the last batch (:meth:`close`)."""
        stream = iter(stream)
        document = next(stream, None)
        if not isinstance(document, rec.Document):
            raise ImportFailed(f"{self.ctx.report.source}: файл не похож на выгрузку CommerceML")
        self.ctx.report.kind = self.ctx.kind = document.kind
        self.ctx.full_package = document.changes_only is False
        self.ctx.catalogue_id = (document.catalogue_id or "")[:128]
        self.ctx.classifier_id = (document.classifier_id or "")[:128]
        prefer_indexes()
        batch_size = self.ctx.batch_size
        for record in stream:
            if type(record) is not self._pending_type or len(self._pending) >= batch_size:
                self.flush()
                self._pending_type = type(record)
            self._pending.append(record)
        self.flush()
        self.finish(document)
        return document

    def flush(self):
        if not self._pending:
            return
        batch, kind = self._pending, self._pending_type
        self._pending = []
        batch = fit_to_shop(batch, self.ctx.report)  # sanitised, cut to the columns (services.content)
        if kind is rec.Group:
            self.categories.write(batch)
            if self._products is not None:
                self._products.categories_changed()
        elif kind is rec.Property:
            self.attributes.write_properties(batch)
        elif kind is getattr(rec, "Unit", None):
            self.attributes.write_units(batch)
        elif kind is rec.PriceType:
            self.price_types.write(batch)
        elif kind is rec.Warehouse:
            self.warehouses.write(batch)
        elif kind is rec.Product:
            self.products.write(batch)
        elif kind is rec.Offer:
            self.offers.write(batch)
        self.ctx.tick(len(batch))

    def close(self, failed=False):
        """The pictures of the file are on disk (and named for a rollback): see ``ImageWriter.close``."""
        if self._images is not None:
            self._images.close(failed=failed)
            if not failed:
                self._products.forget_incomplete()

    def finish(self, document):
        """What a full package means for what it did not list; caches and views."""
        report = self.ctx.report
        full = document.changes_only is False
        if full and document.kind in (rec.CLASSIFIER, rec.CATALOGUE):
            self.categories.hide_missing()
        if document.kind == rec.CATALOGUE:
            record_catalogue(document, full_started_at=self.ctx.started_at if full else None)
        if full and document.kind == rec.CATALOGUE and self._products is not None and self._products.seen_any:
            if full_package_missing() == HIDE:
                # Read before they are hidden: the journal links to what this file hid.
                report.remember_hidden(
                    untouched_products(self.ctx.catalogue_id, self.ctx.listed_since).filter(is_public=True)
                )
            report.hidden += apply_missing_products(
                self.ctx.catalogue_id, self.ctx.listed_since, counted_before=self.ctx.counted_before
            )
        if full and document.kind == rec.OFFERS and self._offers is not None and full_package_missing() != KEEP:
            self._offers.zero_unlisted()
        if self.categories.changed:
            self.ctx.after_commit(forget_category_urls)
        if self.categories.changed or self._products is not None:
            refresh_category_hierarchy()


# -- applying a file -------------------------------------------------------------------------


def read_records(fileobj, ctx):
    """
    The file's records, parsed ahead of the writes (:mod:`.reading`): by a process of its
    own when the file is big and on a local disk (``ctx.path``), else by a thread.
    """
    name = ctx.report.source
    depth = read_ahead_depth(ctx.batch_size)
    if can_fork(ctx.path, size=packed_size(ctx)):
        spool = spooled(ctx.path, ctx.packed)
        if spool is not None:  # read while the file before it was imported (read_ahead_of_its_turn)
            records = read_spooled(spool, ctx.path, name=name, depth=depth, packed=ctx.packed)
        else:
            records = read_in_process(ctx.path, name=name, depth=depth, packed=ctx.packed)
        if ctx.progress is not None:
            ctx.progress.follow(records)
        return iter(records)
    return read_ahead(reader.iter_records(fileobj, name=name), depth=depth)


def packed_size(ctx):
    """Bytes of the archive member being imported, or None for a file of its own."""
    return ctx.packed.size if ctx.packed is not None else None


def _serialise_imports():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def apply_stream(fileobj, ctx):
    """
    Apply an open CommerceML file in one transaction. Raises the reader's errors,
    :class:`ImportFailed` or a database error; on any error nothing stays written
    (and pictures already copied are removed again).

    Rows the import finds missing are written by plain INSERTs (:func:`.bulk.insert_new`).
    If one was written meanwhile by someone else (a manager saving the same product in
    the dashboard), that transaction is lost: the file is applied once more, from the
    start, with every row upserted.

    Meanwhile what the process held before is out of the garbage collector's sight
    (:func:`shop.memory.frozen_during`).
    """
    with frozen_during():
        try:
            with plain_inserts():
                return _apply_stream(fileobj, ctx)
        except InsertConflict as conflict:
            logger.info("1C import of %s applied again with upserts: %s", ctx.report.source, conflict)
            ctx.restart()
            fileobj.seek(0)
            with plain_inserts(False):
                return _apply_stream(fileobj, ctx)


def _apply_stream(fileobj, ctx):
    name = ctx.report.source
    try:
        with transaction.atomic():
            _serialise_imports()
            document = reader.read_document(fileobj, name=name)
            fileobj.seek(0)
            ctx.report.kind = document.kind
            if document.kind == rec.ORDERS:
                from integration_1c.services.orders import apply_order_documents

                apply_order_documents(fileobj, ctx.report)
            else:
                # Work beside the records that needs none of them (the search indexes'
                # pending lists, ``shop.apps.search.pending``), finished by its receiver
                # of ``catalogue_changed``.
                size = file_size(ctx.path, packed_size(ctx))
                catalogue_import_started.send(sender=RecordApplier, size=size, kind=document.kind)
                with RecordApplier(ctx).closing() as applier, references_checked_per_statement():
                    with stock.recording_writes() as stock_written, WriteBehind():
                        applier.read(read_records(fileobj, ctx))
                    # The listing refresh, while the last batch's pictures are placed.
                    defer = defers_listing(ctx, stock_written)
                    catalogue_changed.send(
                        sender=RecordApplier,
                        since=ctx.started_at,
                        kind=ctx.kind,
                        full=ctx.full_package,
                        stock_written=stock_written,
                        defer=defer,
                    )
                    if defer:  # done by then, unless 1C never asked for the file after this one
                        from integration_1c import tasks

                        background.enqueue_later(tasks.settle_deferred_work, DEFERRED_WORK_DUE_SECONDS)
    except BaseException:
        ctx.rolled_back()
        raise
    return ctx.report


#: A file leaves work to the file after it in its exchange (:func:`defers_listing`); this
#: long after it, the work is done anyway (:func:`settle_deferred_work`) if no file did it:
#: 1C asks for the next file within seconds, unless the exchange stopped.
DEFERRED_WORK_DUE_SECONDS = 120


def defers_listing(ctx, stock_written):
    """
    Whether the file leaves the listing's refresh to the file after it (``ctx.followed``):
    a catalogue file that wrote no stock. What it wrote is stamped, and what a full
    package hid is found by the sweep of the refresh that pays (``shop.apps.search.
    models.ListingDebt``); the stock records it wrote (zeroed for a full package's
    missing products) are known only to this file, so it refreshes them itself.
    """
    return ctx.followed and ctx.kind == rec.CATALOGUE and not stock_written


def describe_error(exc, name):
    """A message for the 1C operator (the journal and ``failure`` answers)."""
    if isinstance(exc, DATA_ERRORS):
        return str(exc)
    if isinstance(exc, (IntegrityError, DatabaseError)):
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"{name}: данные файла не записаны, база данных отказала: {detail}. Каталог на сайте не изменён."
        )
    return f"Внутренняя ошибка сайта при загрузке «{name}»: {type(exc).__name__}: {exc}. Каталог на сайте не изменён."


def _log_error(exc, name):
    if isinstance(exc, DATA_ERRORS):
        logger.warning("1C import of %s failed: %s", name, exc)
    elif isinstance(exc, DatabaseError):
        logger.warning("1C import of %s refused by the database", name, exc_info=True)
    else:
        logger.exception("1C import of %s failed unexpectedly", name)


def apply_file(exchange_file_id):
    """
    Apply a file 1C uploaded (the Celery task's entry point). Marks the journal row
    RUNNING, applies ``<session.folder>/<file.name>`` from the ``exchange`` storage, then
    stores counts, warnings, kind and DONE — or FAILED with a message in ``error``.
    Data errors never raise out of here.
    """
    exchange_file = ExchangeFile.objects.select_related("session").get(pk=exchange_file_id)
    session = exchange_file.session
    started = timezone.now()
    ExchangeFile.objects.filter(pk=exchange_file.pk).update(
        state=ExchangeFile.RUNNING, started_at=started, finished_at=None, processed=0, error=""
    )
    key = progress_key(exchange_file.pk)
    cache.set(key, 0, PROGRESS_TIMEOUT)
    report = ImportReport(source=exchange_file.name)
    storage = storages["exchange"]
    folder = (session.folder or "").strip("/")
    # The XML of an archive is read from the archive (inflated as it is read), not unpacked.
    packed = Packed.from_json(exchange_file.packed) if exchange_file.packed else None
    stored = packed.archive if packed is not None else exchange_file.name
    path = f"{folder}/{stored}" if folder else stored
    ctx = ImportContext(
        report,
        started_at=started,
        counted_before=session.started_at,
        # A full package sent as several files, with a fresh login for each, is one run.
        listed_since=run_started_at(session),
        images=StorageImageSource(storage, folder, session_id=session.pk),
        progress=ImportProgress(exchange_file, counter_key=key),
        packed=packed,
    )
    try:
        ctx.path = storage.path(path)  # read by a process of its own when big (reading.read_in_process)
    except NotImplementedError:
        pass
    following = following_file(exchange_file)
    ctx.followed = following is not None
    read_ahead_of_its_turn(following, storage, folder)
    error = ""
    try:
        fileobj = storage.open(path, "rb")
        if packed is not None:
            fileobj = PackedReader.owning(fileobj, packed)
    except DamagedMember as exc:
        error = damaged_member(exchange_file.name, packed, exc)
    except (FileNotFoundError, OSError):
        error = f"{exchange_file.name}: файл не найден в папке обмена на сайте — отправьте его снова"
    else:
        try:
            with fileobj:
                ctx.progress.watch(fileobj)
                apply_stream(fileobj, ctx)
        except DamagedMember as exc:
            logger.warning("1C import of %s: %s", exchange_file.name, exc)
            error = damaged_member(exchange_file.name, packed, exc)
        except Exception as exc:
            _log_error(exc, exchange_file.name)
            error = describe_error(exc, exchange_file.name)
        finally:
            ctx.images.close()
    if error and following is None:
        # No file after this one will do what a catalogue file left to the file after it
        # (:func:`defers_listing`): a failed offers file must not leave the catalogue
        # file's products out of the listing. A file still waiting does it when imported.
        settle_deferred_work(overdue_only=False)
    ExchangeFile.objects.filter(pk=exchange_file.pk).update(
        state=ExchangeFile.FAILED if error else ExchangeFile.DONE,
        kind=report.kind or exchange_file.kind,
        processed=report.processed,
        created=0 if error else report.created,
        updated=0 if error else report.updated,
        hidden=0 if error else report.hidden,
        skipped=0 if error else report.skipped,
        warnings=report.all_warnings(),
        hidden_products=[] if error else report.hidden_ids,
        error=error,
        finished_at=timezone.now(),
    )
    cache.set(key, report.processed, PROGRESS_TIMEOUT)


def following_file(exchange_file):
    """
    The XML file of the same exchange that waits to be imported after ``exchange_file``
    (the offers file, while the catalogue file is imported: 1C uploads every file, or
    the archive, before it asks for the first import), or None.
    """
    return (
        ExchangeFile.objects.filter(
            session_id=exchange_file.session_id,
            state__in=(ExchangeFile.QUEUED, ExchangeFile.UPLOADING),
            name__iendswith=".xml",
        )
        .exclude(pk=exchange_file.pk)
        .order_by("uploaded_at", "pk")
        .first()
    )


def read_ahead_of_its_turn(following, storage, folder):
    """
    Start parsing ``following`` (:func:`following_file`) into a spool its own import then
    reads (:func:`.reading.start_reading_ahead`). Only an XML file on a local disk, big
    enough to be read by a process of its own. A file still growing, or sent again,
    has another spool name by then, and is parsed in its turn. Returns the spool or None.
    """
    if following is None:
        return None
    try:
        packed = Packed.from_json(following.packed) if following.packed else None
        stored = packed.archive if packed is not None else following.name
        path = storage.path(f"{folder}/{stored}" if folder else stored)
        return start_reading_ahead(path, name=following.name, packed=packed)
    except NotImplementedError:  # a storage without local paths
        return None
    except Exception:  # an optimisation: the file is parsed in its turn
        logger.warning("1C import: %s is not read ahead of its turn", following.name, exc_info=True)
        return None


def settle_deferred_work(overdue_only=True):
    """
    Do what files left to a file after them that did not do it (failed, or never asked
    for): ``signals.deferred_work_due``, whose receivers do it with no import beside them.
    The task sent :data:`DEFERRED_WORK_DUE_SECONDS` after every file that left work does
    only what was left that long ago (``overdue_only``), mostly nothing: the file after
    did it, and what the next exchange's catalogue file has just left is its offers
    file's. Any later file's import does it too.
    """
    left_before = timezone.now() - timedelta(seconds=DEFERRED_WORK_DUE_SECONDS) if overdue_only else None
    try:
        deferred_work_due.send(sender=RecordApplier, serialised=one_import_at_a_time, left_before=left_before)
    except Exception:  # done by the next file's import
        logger.exception("1C import: the work files left to the file after them failed")


@contextmanager
def one_import_at_a_time():
    """A transaction no import runs beside (they take the same lock, one at a time)."""
    with transaction.atomic():
        _serialise_imports()
        yield


def damaged_member(name, packed, exc):
    """The operator's reason for a file whose bytes in its archive are not what the archive's directory says."""
    return (
        f"{name}: файл в архиве «{packed.archive}» повреждён ({exc}) — архив изменён или передан не полностью."
        " Каталог на сайте не изменён; отправьте обмен снова."
    )


def apply_path(path, *, base_dir=None, since=None):
    """
    Apply a CommerceML file on disk; pictures are looked up relative to ``base_dir``
    (default: the file's folder). ``since``: the start of the whole run when several
    files make one package (what a full package lists counts from there; default: this
    file's start). Returns the :class:`ImportReport`; raises :class:`ImportFailed` with
    the operator's message when the file was not applied.
    """
    path = Path(path)
    report = ImportReport(source=path.name)
    ctx = ImportContext(
        report, images=DirectoryImageSource(base_dir or path.parent), listed_since=since, path=str(path)
    )
    try:
        with open(path, "rb") as fileobj:
            apply_stream(fileobj, ctx)
    except ImportFailed:
        raise
    except Exception as exc:
        _log_error(exc, path.name)
        raise ImportFailed(describe_error(exc, path.name)) from exc
    return report


def detect_kind(path):
    """The Document of a file on disk (its kind decides the import order of a folder)."""
    with open(path, "rb") as fileobj:
        return reader.read_document(fileobj, name=Path(path).name)


#: The order 1C sends a package in: classifier and catalogue first, then offers.
IMPORT_ORDER = {rec.CLASSIFIER: 0, rec.CATALOGUE: 1, rec.OFFERS: 2, rec.OFFERS_CHANGES: 3}


@dataclass
class FolderPlan:
    """The catalogue files of a folder in 1C's order, and what was left out."""

    files: list = field(default_factory=list)  # (path, Document)
    skipped: list = field(default_factory=list)  # (path, kind): not catalogue data (orders)
    unreadable: list = field(default_factory=list)  # (path, error message)


def plan_folder(folder, *, recursive=False):
    """
    Order the ``*.xml`` of a folder as 1C sends them: by kind (read from the content),
    then by ``ДатаФормирования``, then by name.
    """
    base = Path(folder)
    plan, keyed = FolderPlan(), []
    for path in sorted(base.rglob("*.xml") if recursive else base.glob("*.xml")):
        try:
            document = detect_kind(path)
        except DATA_ERRORS as exc:
            plan.unreadable.append((path, str(exc)))
            continue
        if document.kind not in IMPORT_ORDER:
            plan.skipped.append((path, document.kind))
            continue
        generated = document.generated_at.isoformat() if document.generated_at else ""
        keyed.append(((IMPORT_ORDER[document.kind], generated, str(path.relative_to(base))), path, document))
    plan.files = [(path, document) for _, path, document in sorted(keyed, key=lambda item: item[0])]
    return plan
