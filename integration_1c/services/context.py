"""
What every service needs to know while one file is applied.

One :class:`ImportContext` lives for one file inside one transaction. It carries the
moment the import started (rows written by this import have ``date_updated`` at or after
it, which is how "not listed in a full package" is found without keeping every Ид in
memory), the moment 1C counted its stock (see :mod:`.stock`), where images are read
from, and the report.
"""

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import reset_queries, transaction
from django.utils import timezone
from oscar.core.loading import get_model

from integration_1c import conf

from .report import ImportReport

logger = logging.getLogger(__name__)

ProductClass = get_model("catalogue", "ProductClass")


class ImportFailed(Exception):
    """A file cannot be applied; the message is meant for the 1C operator."""


@dataclass
class ImportContext:
    report: ImportReport
    #: Taken before the first write; rows this import wrote are stamped at or after it.
    started_at: datetime = field(default_factory=timezone.now)
    #: Orders 1C acknowledged before this moment are in its stock figures (stock.py).
    counted_before: datetime | None = None
    #: What a full package "lists" is what the exchange wrote since this moment: the
    #: start of the exchange session, so that a package 1C split into several files
    #: (``import0_1.xml``, ``import0_2.xml``) does not hide what the other files listed.
    listed_since: datetime | None = None
    #: Where ``Картинка`` paths are read from (an :class:`.images.ImageSource`), or None.
    images: object = None
    batch_size: int = 0
    #: The file's Document kind, and whether it is a FULL package (СодержитТолькоИзменения
    #: = false): set by the importer once the Document is read.
    kind: str = ""
    full_package: bool = False
    #: Каталог/Ид (ИдКаталога of an offers package) and Классификатор/Ид of the file:
    #: full-package rules act only within them (several 1C catalogues in one shop).
    catalogue_id: str = ""
    classifier_id: str = ""
    #: The file on a local disk, when it is one (a process of its own may then read it)…
    path: str = ""
    #: …or the archive holding it, with its place there (``protocol.archives.Packed``).
    packed: object = None
    #: Called with ``report.processed`` after every batch (progress for the journal).
    progress: Callable[[int], None] | None = None
    #: Another file of the same exchange waits to be imported after this one: a catalogue
    #: file leaves the listing's refresh to it (``signals.catalogue_changed``'s ``defer``).
    followed: bool = False
    _rollback_actions: list = field(default_factory=list)
    _stored_files: object = None
    _product_class: object = None

    def __post_init__(self):
        if not self.batch_size:
            self.batch_size = int(conf.get("ONEC_BATCH_SIZE"))
        if self.counted_before is None:
            self.counted_before = self.started_at
        if self.listed_since is None:
            self.listed_since = self.started_at

    @property
    def product_class(self):
        """The ProductClass every 1C product lives in (created on first use)."""
        if self._product_class is None:
            self._product_class, _ = ProductClass.objects.get_or_create(
                name=conf.get("ONEC_PRODUCT_CLASS_NAME"),
                defaults={"track_stock": True, "requires_shipping": True},
            )
        return self._product_class

    def on_rollback(self, action):
        """
        Run ``action`` if the file's transaction rolls back: files written to storage
        (product images) are not part of the database transaction.
        """
        self._rollback_actions.append(action)

    def stored_file(self, name):
        """
        Remember a file copied into the default storage, to delete it if the file's
        transaction rolls back. The names go to a temporary file on disk, not a list:
        a 100,000-product catalogue copies over 100,000 pictures, and memory must not
        grow with the file.
        """
        if self._stored_files is None:
            self._stored_files = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._stored_files.write(name.replace("\n", " ") + "\n")

    def _delete_stored_files(self):
        from django.core.files.storage import default_storage

        journal, self._stored_files = self._stored_files, None
        if journal is None:
            return
        with journal:
            journal.seek(0)
            for line in journal:
                name = line.rstrip("\n")
                if name:
                    try:
                        default_storage.delete(name)
                    except Exception:  # cleaning up must not hide the error that caused it
                        logger.exception("Removing picture %s after a failed import", name)

    def rolled_back(self):
        for action in reversed(self._rollback_actions):
            try:
                action()
            except Exception:  # cleaning up must not hide the error that caused it
                logger.exception("Cleaning up after a failed import")
        self._rollback_actions.clear()
        self._delete_stored_files()

    def restart(self):
        """
        Start the file again after a failed attempt (:func:`.importer.apply_stream`): a
        fresh report, nothing to undo. Call after :meth:`rolled_back`.
        """
        self.report.clear()
        self._rollback_actions.clear()
        self._stored_files = None

    def tick(self, records=0):
        """Count applied records and publish progress (once per batch)."""
        # With DEBUG on, Django keeps the last 9000 statements — with batch-sized
        # parameters that is memory growing with the file.
        reset_queries()
        self.report.processed += records
        if self.progress is not None:
            self.progress(self.report.processed)

    @staticmethod
    def after_commit(action):
        transaction.on_commit(action)
