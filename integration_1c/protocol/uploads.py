"""
Where the files of an exchange live.

Every exchange session gets its own folder in the private ``exchange`` storage
(``STORAGES["exchange"]``): ``<type>/<UTC start time>-<token>/``, and a file 1C sends as
``filename=import_files/5c/x.jpg`` is stored as ``<folder>/import_files/5c/x.jpg``. A
per-session folder means a new exchange never overwrites the files of one still being
imported, and the importer finds pictures next to the XML that names them.

Everything goes through Django's storage API, so web and worker nodes can share the
files: a volume mounted on every node (``FileSystemStorage`` with ``EXCHANGE_ROOT``) or
an object store (an S3 backend). Chunked uploads (a file larger than ``file_limit``
arrives as several POSTs with the same name) are stored in one of two ways:

* ``FileSystemStorage``: each chunk is appended in place to the final file, so a
  completed upload needs no further work, however large.
* any other storage (object stores cannot append): the first chunk is saved as the
  final file, so the usual one-chunk upload (a picture, a small XML) is done at once.
  When a second chunk comes, the first moves to ``<folder>/.upload-chunks/<name>/000001``
  and chunk *n* is saved next to it as ``<n:06d>``; :meth:`UploadFolder.finish` joins
  them into the final file once the upload is complete, i.e. when 1C asks to import (in
  the worker for anything big, see :mod:`integration_1c.protocol.pipeline`).

Readers (the importer, the archive unpacker) always open the final ``<folder>/<name>``
(:func:`open_exchange_file`), or the member of an archive that left it packed.
"""

import errno
import logging
import os
import posixpath
import shutil
import tempfile
from datetime import UTC, datetime

from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages

from .names import CHUNKS_DIR

logger = logging.getLogger(__name__)

STORAGE_ALIAS = "exchange"
COPY_BUFFER = 1024 * 1024
#: Files up to this size are joined/staged in memory, bigger ones in a temporary file.
SPOOL_MAX = 8 * 1024 * 1024
FOLDER_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


class UploadRefused(Exception):
    """A POST that is not stored; the message is for the 1C operator. Nothing was kept."""


class RequestBody:
    """
    The body of one ``mode=file`` POST as a stream that keeps its promises: never more
    than ``limit`` bytes (a 2 GB POST is refused after ``limit``, not written to disk),
    and exactly ``Content-Length`` of them — a body that ends early (a dropped
    connection) raises :class:`UploadRefused`, so the caller drops what it wrote.

    ``Transfer-Encoding: chunked`` carries no length: it is read to its end when the
    server says that is safe (``wsgi.input_terminated``: gunicorn, mod_wsgi, uvicorn's
    WSGI), else refused — never stored as an empty file.
    """

    def __init__(self, request, name, limit):
        meta = request.META
        self.name = name
        self.limit = limit
        self.received = 0
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
            if not meta.get("wsgi.input_terminated"):
                raise UploadRefused(
                    f"Файл «{name}» не принят: веб-сервер сайта не передаёт тело запроса без длины"
                    " (Transfer-Encoding: chunked). Отправьте файл с заголовком Content-Length"
                    " или включите обработку chunked на прокси-сервере."
                )
            self.expected = None
            self.stream = meta["wsgi.input"]
        else:
            try:
                self.expected = int(meta.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise UploadRefused(f"Файл «{name}» не принят: непонятный заголовок Content-Length.") from None
            self.stream = request
            if self.expected > limit:
                raise UploadRefused(self._too_large(self.expected))

    def _too_large(self, size):
        return (
            f"Часть файла «{self.name}» больше, чем сайт принимает за один запрос: {size} байт при пределе"
            f" {self.limit}. Файл не сохранён; отправляйте его частями не больше file_limit из ответа на mode=init."
        )

    def read(self, size=-1):
        want = COPY_BUFFER if size is None or size < 0 else size
        if self.expected is not None:
            want = min(want, self.expected - self.received)
            if want <= 0:
                return b""
        else:
            want = min(want, self.limit + 1 - self.received)
        try:
            block = self.stream.read(want)
        except Exception as exc:  # the client went away mid-body (servers raise their own errors)
            raise UploadRefused(self._incomplete()) from exc
        self.received += len(block)
        if self.received > self.limit:
            raise UploadRefused(self._too_large(f"больше {self.limit}"))
        if not block and self.expected is not None and self.received < self.expected:
            raise UploadRefused(self._incomplete())
        return block

    def _incomplete(self):
        expected = f" из {self.expected}" if self.expected is not None else ""
        return (
            f"Часть файла «{self.name}» пришла не полностью (получено {self.received}{expected} байт): связь"
            " прервалась. Эта часть не сохранена — отправьте её снова."
        )


def disk_full(name):
    return (
        f"На сайте закончилось место на диске: часть файла «{name}» не сохранена. Освободите место"
        " (папка обмена, старые выгрузки) и повторите обмен."
    )


def check_free_space(storage, needed, reserve, name):
    """Refuse a chunk that would leave less than ``reserve`` bytes free (local storage only)."""
    if not is_local(storage):
        return
    root = storage.location
    os.makedirs(root, exist_ok=True)
    if shutil.disk_usage(root).free - (needed or 0) < reserve:
        raise UploadRefused(disk_full(name))


def exchange_storage():
    """The private storage of exchange uploads (never served by the web server)."""
    return storages[STORAGE_ALIAS]


def new_folder_name(exchange_type, token, when):
    """``catalog/20250101T120000Z-<token>``: sortable by time, unique by token."""
    return f"{exchange_type}/{when.astimezone(UTC):{FOLDER_TIME_FORMAT}}-{token}"


def folder_started_at(folder):
    """The start time written into a folder name, or None for a name we did not make."""
    stamp = posixpath.basename(folder.rstrip("/")).split("-", 1)[0]
    try:
        return datetime.strptime(stamp, FOLDER_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def is_local(storage):
    """True for a file system (local or a shared volume): files can be appended and removed fast."""
    return isinstance(storage, FileSystemStorage)


def list_folders(exchange_type, storage=None):
    """Folders (``<type>/<name>``) present in the storage for one exchange type."""
    storage = storage or exchange_storage()
    try:
        directories, _files = storage.listdir(exchange_type)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(f"{exchange_type}/{name}" for name in directories)


def remove_tree(path, storage=None):
    """Delete a folder and everything in it; a missing folder is not an error."""
    storage = storage or exchange_storage()
    if is_local(storage):
        try:
            shutil.rmtree(storage.path(path))
        except FileNotFoundError:
            pass
        return
    try:
        directories, files = storage.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        storage.delete(f"{path}/{name}")
    for name in directories:
        remove_tree(f"{path}/{name}", storage)
    try:
        storage.delete(path)  # object stores have no directories: nothing left to do
    except (FileNotFoundError, OSError):
        pass


def open_exchange_file(exchange_file):
    """Open the stored content of an :class:`~integration_1c.models.ExchangeFile` (:meth:`UploadFolder.open_stored`)."""
    return UploadFolder(exchange_file.session.folder).open_stored(exchange_file)


class UploadFolder:
    """The files of one exchange session, addressed by the names 1C gave them."""

    def __init__(self, folder, storage=None):
        if not folder:
            raise ValueError("An exchange session has no upload folder before mode=init.")
        self.folder = folder.rstrip("/")
        self.storage = storage or exchange_storage()
        #: Append chunks in place (a real file system) or keep numbered chunks.
        self.local = is_local(self.storage)

    def storage_name(self, name):
        """The name of a file inside the storage."""
        return f"{self.folder}/{name}"

    def _chunks_root(self):
        return f"{self.folder}/{CHUNKS_DIR}"

    def open(self, name, mode="rb"):
        return self.storage.open(self.storage_name(name), mode)

    def open_stored(self, exchange_file):
        """
        The content of a file of this folder's session, for reading: the file, or, for a
        member an archive left packed (``exchange_file.packed``), the member read from
        the archive (:class:`~.archives.PackedReader`).
        """
        from .archives import Packed, PackedReader

        if not exchange_file.packed:
            return self.open(exchange_file.name, "rb")
        packed = Packed.from_json(exchange_file.packed)
        return PackedReader.owning(self.open(packed.archive, "rb"), packed)

    def exists(self, name):
        return self.storage.exists(self.storage_name(name))

    def size(self, name):
        return self.storage.size(self.storage_name(name))

    def append(self, name, stream, number):
        """
        Add chunk ``number`` (1 for the first POST of a file) read from ``stream`` to
        ``name``; return its size. Chunks must arrive in order, as 1C sends them.
        """
        if self.local:
            path = self.storage.path(self.storage_name(name))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if number == 1:  # the first chunk starts a new file (imported pictures link the old one)
                self._delete(self.storage_name(name))
            offset = os.path.getsize(path) if os.path.exists(path) else None
            try:
                with open(path, "ab") as target:
                    return _copy(stream, target)
            except BaseException as exc:
                # A chunk that did not arrive whole leaves nothing: 1C sends it again.
                if offset is None:
                    os.unlink(path)
                else:
                    os.truncate(path, offset)
                if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                    raise UploadRefused(disk_full(name)) from exc
                raise
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX) as staged:
            size = _copy(stream, staged)  # the whole chunk first: a broken one changes nothing
            staged.seek(0)
            if number == 1:
                self._save(self.storage_name(name), staged)
                return size
            if number == 2 and self.storage.exists(self.storage_name(name)):
                with self.storage.open(self.storage_name(name), "rb") as first:
                    self._replace(f"{self._chunk_dir(name)}/{1:06d}", first)
                self._delete(self.storage_name(name))
            self._save(f"{self._chunk_dir(name)}/{number:06d}", staged)
        return size

    def write(self, name, stream):
        """Store ``name`` whole (an archive member), replacing any earlier content."""
        if self.local:
            path = self.storage.path(self.storage_name(name))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # A new file, never the old one rewritten: imported pictures are hard links to it.
            self._delete(self.storage_name(name))
            with open(path, "wb") as target:
                return _copy(stream, target)
        return self._replace(self.storage_name(name), stream)

    def discard(self, name):
        """Forget ``name`` (its content and unjoined chunks) before 1C sends it anew."""
        self._delete(self.storage_name(name))
        if not self.local:
            self._drop_chunks(name)

    def finish(self, name):
        """
        Join the chunks of ``name`` into its final file (object stores only); return
        True when there was something to join. Safe to call any number of times.
        """
        if self.local:
            return False
        chunk_dir = self._chunk_dir(name)
        parts = self._parts(chunk_dir)
        if not parts:
            return False
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX) as joined:
            for part in parts:
                with self.storage.open(f"{chunk_dir}/{part}", "rb") as source:
                    shutil.copyfileobj(source, joined, COPY_BUFFER)
            joined.seek(0)
            self._replace(self.storage_name(name), joined)
        self._drop_chunks(name)
        return True

    def finish_all(self):
        """Join every upload of this folder that still lies in chunks; return their names."""
        if self.local:
            return []
        finished = []
        for name in list(self._chunked_names(self._chunks_root(), "")):
            if self.finish(name):
                finished.append(name)
        if not any(True for _name in self._chunked_names(self._chunks_root(), "")):
            remove_tree(self._chunks_root(), self.storage)  # the empty folders left behind
        return finished

    def _chunk_dir(self, name):
        return f"{self._chunks_root()}/{name}"

    def _parts(self, chunk_dir):
        """The numbered chunks in a chunk folder, in upload order."""
        try:
            _directories, files = self.storage.listdir(chunk_dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(name for name in files if name.isdigit())

    def _drop_chunks(self, name):
        """Delete the chunks of ``name`` only: another name may continue below (``a``, ``a/b``)."""
        chunk_dir = self._chunk_dir(name)
        for part in self._parts(chunk_dir):
            self._delete(f"{chunk_dir}/{part}")
        try:
            directories, files = self.storage.listdir(chunk_dir)
        except (FileNotFoundError, NotADirectoryError):
            return
        if not directories and not files:
            remove_tree(chunk_dir, self.storage)

    def _chunked_names(self, path, prefix):
        """Names whose chunk folder (holding numbered parts) lies under ``path``."""
        try:
            directories, files = self.storage.listdir(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        if prefix and any(name.isdigit() for name in files):
            yield prefix
        for directory in directories:
            child = f"{prefix}/{directory}" if prefix else directory
            yield from self._chunked_names(f"{path}/{directory}", child)

    def remove(self):
        """Delete the whole folder."""
        remove_tree(self.folder, self.storage)

    def _delete(self, storage_name):
        try:
            self.storage.delete(storage_name)
        except FileNotFoundError:
            pass

    def _replace(self, storage_name, stream):
        """Save ``stream`` under exactly ``storage_name`` (storages never overwrite by themselves)."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX) as staged:
            size = _copy(stream, staged)
            staged.seek(0)
            self._save(storage_name, staged)
        return size

    def _save(self, storage_name, staged):
        self._delete(storage_name)
        saved = self.storage.save(storage_name, File(staged, name=posixpath.basename(storage_name)))
        if saved != storage_name:
            self._delete(saved)
            raise OSError(f"The exchange storage saved {storage_name!r} as {saved!r}.")


def _copy(source, target):
    """Copy a readable into a writable; return the number of bytes."""
    total = 0
    while True:
        block = source.read(COPY_BUFFER)
        if not block:
            return total
        target.write(block)
        total += len(block)
