"""
Product pictures (Картинка) from the exchange upload into Oscar's ProductImage.

1C sends every picture of a product again with every full export, so an image is known
by its content: ``ProductImage.code`` = ``<product code>|<sha1 of the file>[:20]``.
Same content -> nothing is written, the file is not touched; new content -> a new image;
a 1C image the product no longer lists -> removed (its file too, once the transaction
commits). Images a manager added in the dashboard have no code and are left alone. A
listed file that is missing from the upload, or whose content is not a picture (an HTML
or XML page named ``.jpg``), gives a warning and leaves that product's images as they
were (1C may be set to not send pictures).

Placing a new picture costs what the storage allows (:class:`PicturePlacer`): when the
exchange folder and the media folder are on one file system the media file is a hard
link to the uploaded one (no byte is copied, and the upload folder can still be read
again or removed later); otherwise the bytes are copied once. Media names are derived
from the image code (``images/products/1c/<2 hex>/<name>_<hex>.<ext>``): spread over
256 sub-folders instead of one folder of 100,000 files (:data:`SPREAD_DIGITS`), and the same for the same
picture of the same product, so an import that is repeated after a crash finds its
file in place instead of making a second one.
"""

import hashlib
import logging
import os
import posixpath
import signal
import stat
from multiprocessing.connection import Pipe
from pathlib import Path

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from oscar.core.loading import get_model
from oscar.core.thumbnails import get_thumbnailer
from PIL import Image, UnidentifiedImageError

from integration_1c.models import ImageFingerprint
from integration_1c.protocol.archives import DamagedMember, Packed, read_packed
from integration_1c.protocol.packed_index import PackedIndex, index_path
from integration_1c.protocol.uploads import is_local
from integration_1c.selectors import session_archives, session_files_named, session_has_attachment_rows

from .bulk import insert_new, upsert
from .reading import may_fork, widen_pipe

ProductImage = get_model("catalogue", "ProductImage")

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


def _created_mode():
    """
    The mode a new file gets here (0o666 less the umask), or None when it cannot be
    told: no chmod is needed when it is the storage's. Read from ``/proc`` rather than
    by setting the umask, which would change it for every thread of the process.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return None


#: Read once: a first exchange creates 118,000 pictures, and each chmod is a system call.
_CREATED_MODE = _created_mode()

#: Where 1C pictures go inside the media storage.
PICTURE_FOLDER = "images/products/1c"

#: Formats a browser shows and Oscar's thumbnailer reads -> the extension they are stored with.
#: SVG is not among them: it is XML and may carry scripts.
PICTURE_FORMATS = {
    "JPEG": ".jpg",
    "MPO": ".jpg",  # a camera JPEG with a second frame (opened by the JPEG reader)
    "PNG": ".png",
    "GIF": ".gif",
    "WEBP": ".webp",
    "BMP": ".bmp",
    "TIFF": ".tif",
}

_OPENERS = [name for name in PICTURE_FORMATS if name != "MPO"]


def _clean_relative(path):
    """A 1C path (``import_files\\5c\\x.jpg``) as a relative posix path, or None if it escapes."""
    path = (path or "").replace("\\", "/").strip()
    while path.startswith("./"):
        path = path[2:]
    if not path or path.startswith("/") or ":" in path.split("/", 1)[0]:
        return None
    normal = posixpath.normpath(path)
    if normal.startswith("../") or normal == "..":
        return None
    return normal


class StorageImageSource:
    """
    Pictures uploaded in an exchange: ``<folder>/<path>`` in the ``exchange`` storage,
    or a member an archive of session ``session_id`` left packed (:meth:`prepare` learns
    which, for a batch at a time).

    Where a name was sent more than once the latest upload wins: a picture sent on its
    own after the archive that holds it, or the later of two archives. The pictures an
    archive left packed are in its index (:mod:`integration_1c.protocol.packed_index`),
    ranked by the archive's journal row; files sent on their own have rows of their
    own. A session without such files is not asked for them at every batch.
    """

    def __init__(self, storage, folder, session_id=None):
        self.storage = storage
        self.folder = (folder or "").strip("/")
        self.session_id = session_id
        self._packed = {}
        self._prepared = frozenset()  # the names the batch's look-up was for
        self._archives = {}  # archive name -> open file, for one batch
        self._indexes = None  # [(archive row id, PackedIndex)], oldest first: read at the first batch
        self._file_rows = None  # whether the session has rows a picture's name may match

    def prepare(self, paths):
        """
        Which of these pictures (a batch's) are left packed in an archive. Asked again
        for some of the same batch (the digests asked for all its products, the pictures
        are written for those that changed), nothing is looked up again.
        """
        names = {_clean_relative(path) for path in paths} - {None}
        if names and names <= self._prepared:
            return
        self.close()
        if self.session_id is None:
            return
        if not names:
            return
        if self._indexes is None:
            self._load_session()
        chosen = {}  # name -> (row id, Packed or None)
        for archive_id, index in self._indexes:
            for name, packed in index.find(names).items():
                chosen[name] = (archive_id, packed)
        if self._file_rows:
            for pk, name, packed in session_files_named(self.session_id, names):
                if name not in chosen or pk > chosen[name][0]:
                    chosen[name] = (pk, Packed.from_json(packed) if packed else None)
        self._packed = {name: packed for name, (_pk, packed) in chosen.items()}
        self._prepared = frozenset(names)

    def _load_session(self):
        self._file_rows = session_has_attachment_rows(self.session_id)
        self._indexes = []
        if not is_local(self.storage):
            return  # archives leave members packed on a local disk only
        for archive_id, archive_name in session_archives(self.session_id):
            try:
                path = index_path(self.storage, self.folder, archive_id)
            except SuspiciousFileOperation:
                continue
            index = PackedIndex.open(path, archive_name)
            if index is not None:
                self._indexes.append((archive_id, index))

    def close(self):
        """Close the archives the last batch read pictures from."""
        self._packed = {}
        self._prepared = frozenset()
        archives, self._archives = self._archives, {}
        for raw in archives.values():
            raw.close()

    def fingerprint(self, path):
        """``(size, CRC-32)`` of a picture left packed, as its archive's directory says; else None."""
        relative = _clean_relative(path)
        packed = self._packed.get(relative) if relative is not None else None
        return packed.fingerprint if packed is not None else None

    def locate(self, path):
        """
        Where the picture is, as :meth:`open_at` takes it — also in the picture process
        (:class:`PictureProcess`), which knows nothing of the batch :meth:`prepare` read:
        the member of an archive, or the name in the storage; None for a path that escapes.
        """
        relative = _clean_relative(path)
        if relative is None:
            return None
        packed = self._packed.get(relative)
        if packed is not None:
            return packed
        return f"{self.folder}/{relative}" if self.folder else relative

    def open_at(self, where):
        if where is None:
            return None
        if isinstance(where, Packed):
            return self._open_packed(where)
        name = where
        try:
            # On disk a missing file raises at once (one look-up, not two); object stores
            # may open lazily and fail only when read, so they are asked first.
            if not isinstance(self.storage, FileSystemStorage) and not self.storage.exists(name):
                return None
            return self.storage.open(name, "rb")
        except (SuspiciousFileOperation, OSError):
            return None

    def _open_packed(self, packed):
        """The member read from its archive; None (the picture is missing) when it cannot be."""
        archive = f"{self.folder}/{packed.archive}" if self.folder else packed.archive
        try:
            raw = self._archives.get(archive)
            if raw is None:  # one open file for a batch's pictures, not one for each
                raw = self._archives[archive] = self.storage.open(archive, "rb")
            return read_packed(raw, packed)
        except (SuspiciousFileOperation, OSError, DamagedMember) as exc:
            logger.warning("Picture in %s at %s could not be read: %s", archive, packed.offset, exc)
            return None

    def local_path_at(self, where):
        """The file on disk at ``where`` (a picture to link), or None: packed, or a non-local storage."""
        if where is None or isinstance(where, Packed) or not isinstance(self.storage, FileSystemStorage):
            return None
        try:
            return self.storage.path(where)
        except (NotImplementedError, SuspiciousFileOperation):
            return None


class DirectoryImageSource:
    """Pictures next to files imported from a local folder (``import_1c_folder``)."""

    def __init__(self, base_dir):
        self.base_dir = Path(base_dir).resolve()
        self._folders = {}  # relative folder -> where it resolves to (None: outside base_dir)

    def _full(self, path):
        """
        The picture's file, only inside ``base_dir`` and only a regular file. A catalogue's
        pictures share a few hundred folders, so each folder's real path is resolved once
        and each picture costs one ``lstat``: resolving every picture's whole path took
        0.6 s for the 11,821 pictures of a 10,000-product folder, now 0.12 s. A picture
        that is itself a symbolic link is resolved whole.
        """
        relative = _clean_relative(path)
        if relative is None:
            return None
        folder_name, _, name = relative.rpartition("/")
        if folder_name not in self._folders:
            folder = (self.base_dir / folder_name).resolve()
            self._folders[folder_name] = folder if folder.is_relative_to(self.base_dir) else None
        folder = self._folders[folder_name]
        if folder is None or name in ("", ".", ".."):
            return None
        full = folder / name
        try:
            mode = os.lstat(full).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            full = full.resolve()
            if not full.is_relative_to(self.base_dir) or not full.is_file():
                return None
        elif not stat.S_ISREG(mode):
            return None
        return full

    def locate(self, path):
        return self._full(path)

    @staticmethod
    def open_at(full):
        try:
            return open(full, "rb") if full is not None else None
        except OSError:
            return None

    @staticmethod
    def local_path_at(full):
        return str(full) if full is not None else None

    # A folder on disk holds no archive: nothing to learn about a batch, to close, or to
    # recognise by the archive's directory (see StorageImageSource).
    def prepare(self, paths):
        pass

    def fingerprint(self, path):
        return None

    def close(self):
        pass


def content_hash(fileobj):
    digest = hashlib.sha1()
    for chunk in iter(lambda: fileobj.read(_CHUNK), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def image_code(product_code, digest):
    return f"{product_code}|{digest[:20]}"


def picture_format(fileobj):
    """
    Pillow's name of the picture's format when the content is a picture a shop can show,
    else None. Only the header is read (``Image.open`` is lazy; no pixel is decoded), so
    this costs a few kilobytes per file, not the file. An image Pillow deems a
    decompression bomb (too many pixels) is refused too.
    """
    try:
        with Image.open(fileobj, formats=_OPENERS) as image:
            found = image.format
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return None
    finally:
        fileobj.seek(0)
    return found if found in PICTURE_FORMATS and width > 0 and height > 0 else None


#: Hex digits of the pictures' sub-folder: 256 folders, as 1C's own ``import_files``. With
#: 4,096 a first import made 4,096 folders while PostgreSQL wrote beside it, and on ext4
#: creating 11,800 pictures that way took 5-9 s instead of 2-4 s (each new folder waits
#: for the file system's journal); 118,000 pictures are ~460 a folder, which a directory
#: index reads as fast as 30.
SPREAD_DIGITS = 2


def picture_name(key, path, found_format):
    """The media name of image ``key``: derived from it, spread over sub-folders."""
    spread = hashlib.sha1(key.encode("utf-8")).hexdigest()
    stem = posixpath.splitext(posixpath.basename((path or "").replace("\\", "/")))[0]
    stem = default_storage.get_valid_name(stem)[:60].strip("._-") or "picture"
    return f"{PICTURE_FOLDER}/{spread[:SPREAD_DIGITS]}/{stem}_{spread[3:15]}{PICTURE_FORMATS[found_format]}"


class PicturePlacer:
    """
    Puts picture files into the media storage under a given name, as cheaply as the
    storages allow: a hard link from the exchange upload when both are folders of one
    file system, else the bytes written once (into a local folder, or through the
    storage's ``save`` for any other). A name that already holds a file of the picture's
    size is left as it is: names are derived from the image code, so it holds this
    picture (a shorter one is what a crashed import left half-written, and is replaced).
    """

    def __init__(self, storage=None):
        self.storage = storage or default_storage
        #: Files on a disk of this machine (``path()`` alone does not say it: the
        #: in-memory storage has one too).
        self.local = isinstance(self.storage, FileSystemStorage)
        #: Cleared after the first link the file systems refuse (another device, no links).
        self.link = self.local
        self._folders = set()
        self.linked = self.copied = 0
        self._mode = getattr(self.storage, "file_permissions_mode", None)
        if self._mode == _CREATED_MODE:
            self._mode = None  # what a new file gets anyway: no chmod

    def place(self, name, fileobj, local_path=None):
        """Store the picture; returns ``(stored name, created)``."""
        if not self.local:
            if self.storage.exists(name):
                return name, False
            self.copied += 1
            return self.storage.save(name, File(fileobj, name=posixpath.basename(name))), True
        target = self.storage.path(name)
        self._folder(target)
        if self.link and local_path:
            try:
                os.link(local_path, target)
            except FileExistsError:
                if os.stat(target).st_size == os.stat(local_path).st_size:
                    return name, False
                # Half a picture a crashed import left: written again below.
            except OSError as error:
                logger.info("Pictures are copied, not linked, into %s: %s", self.storage.location, error)
                self.link = False
            else:
                self.linked += 1
                return name, True
        self.copied += 1
        if local_path:
            with open(local_path, "rb") as source:
                data = source.read()
        else:
            data = fileobj.read()
            fileobj.seek(0)
        return name, write_picture(target, data, self._mode)

    def _folder(self, target):
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)


def write_picture(target, data, mode=None):
    """
    Create ``target`` holding ``data``; returns whether a file was created. A file of
    that size already there is this picture (see :class:`PicturePlacer`); one of another
    size is replaced through a temporary name, so that no reader sees half a picture.
    """
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except FileExistsError:
        if os.stat(target).st_size == len(data):
            return False
        partial = f"{target}.part"
        try:
            with open(partial, "wb") as out:
                out.write(data)
            if mode is not None:
                os.chmod(partial, mode)
            os.replace(partial, target)
        except BaseException:
            _unlink(partial)
            raise
        return True
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        if mode is not None:
            os.chmod(target, mode)
    except BaseException:
        _unlink(target)
        raise
    return True


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


# -- looking at one picture ------------------------------------------------------------------------

#: What :func:`examine` found: the picture is missing, not a picture, one the product has
#: already (by content), or new and placed.
MISSING, NOT_A_PICTURE, KNOWN, NEW = "missing", "not a picture", "known", "new"


def examine(task, source, placer):
    """
    One picture of a product: read it, tell its content (the image code), and when the
    product has no image of that content yet, check that it is a picture and place its
    file (a link to the uploaded file where the disks allow). ``task`` is ``(product code,
    1C path, where the source has it, the image codes the product has)``; the answer
    ``(what, image code, stored name, created)``. Runs in the importing process or in
    :class:`PictureProcess`.
    """
    code, path, where, current = task
    fileobj = source.open_at(where) if source is not None else None
    if fileobj is None:
        return MISSING, None, None, False
    with fileobj:
        key = image_code(code, content_hash(fileobj))
        if key in current:
            return KNOWN, key, None, False
        # Only new content is looked at: a known key passed this check before.
        found = picture_format(fileobj)
        if found is None:
            return NOT_A_PICTURE, key, None, False
        name, created = placer.place(picture_name(key, path, found), fileobj, source.local_path_at(where))
        return NEW, key, name, bool(created)


class PictureProcess:
    """
    A forked process that examines and places a batch's pictures (:func:`examine`) while
    the import goes on with the batch's other writes and the next batch's products:
    reading 118,000 pictures out of the archive, fingerprinting, checking and creating
    them took a 100,000-product import 18 s of its own time, which now runs on the
    machine's other core beside the database's work. One batch is out at a time: the
    importer sends a batch's tasks in one message (:meth:`submit`) and takes the answers
    (:meth:`answers`) before it sends the next, so neither side ever waits on a full pipe
    the other is not reading. The first error placing a file (a full disk) comes back
    with the answers, the rest of the batch not placed. The process ends at
    :meth:`close`, or when the importer is gone (its pipe closes).
    """

    #: Bytes a batch's tasks and answers may take in the pipes before a side waits.
    PIPE_BYTES = 1 << 20

    def __init__(self, source, placer):
        their_tasks, tasks = Pipe(duplex=False)
        answers, their_answers = Pipe(duplex=False)
        for end in (tasks, their_answers):
            widen_pipe(end, self.PIPE_BYTES)
        self.pid = os.fork()
        if self.pid == 0:
            tasks.close()
            answers.close()
            code = 0
            try:
                _examine_pictures(their_tasks, their_answers, source, placer)
            except BaseException:  # the importer is gone: nobody to tell
                code = 1
            finally:
                os._exit(code)
        their_tasks.close()
        their_answers.close()
        self.tasks, self.results = tasks, answers
        self.out = False

    def submit(self, tasks):
        self.tasks.send(tasks)
        self.out = True

    def answers(self):
        """``(answers, error)`` for the batch sent last."""
        self.out = False
        try:
            return self.results.recv()
        except (EOFError, OSError) as exc:
            raise OSError(f"процесс записи картинок прервался: {exc or type(exc).__name__}") from exc

    def close(self):
        """The answers still out (``([], None)`` if none), then the process ends."""
        try:
            return self.answers() if self.out else ([], None)
        finally:
            self.tasks.close()  # the process ends when it sees the pipe closed
            self.results.close()
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


def _examine_pictures(tasks, answers, source, placer):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if source is not None:
        source.close()  # the importer's open archives: this process opens its own
    while True:
        try:
            batch = tasks.recv()
        except EOFError:
            return
        done, error = [], None
        for task in batch:
            if error is not None:
                done.append((MISSING, None, None, False))  # the import fails on the error
                continue
            try:
                done.append(examine(task, source, placer))
            except OSError as exc:
                error = f"{task[1]}: {exc.strerror or exc}"
                done.append((MISSING, None, None, False))
        answers.send((done, error))


class ImageWriter:
    """
    Syncs the 1C images of a batch of products (one read, one insert, one delete).

    Once an import has examined :data:`PROCESS_AFTER` pictures here, the rest are
    examined and placed by a :class:`PictureProcess`, and a batch's image rows are
    written when the next batch comes (:meth:`write`) or the file ends (:meth:`close`,
    after the listing refresh): meanwhile the process works on the batch's pictures.
    """

    #: Pictures examined in the importing process before a process of their own takes the rest.
    PROCESS_AFTER = 200

    def __init__(self, ctx, source, placer=None):
        self.ctx = ctx
        self.report = ctx.report
        self.source = source
        self.placer = placer or PicturePlacer()
        self._process = None
        self._examined = 0
        self._pending = None  # (plan, existing) of the batch whose pictures the process has
        #: Products of which a picture was missing or not a picture (no digest for them: see ``services.digests``).
        self.incomplete = set()

    def close(self, failed=False):
        """
        The image rows of the last batch written and every picture of the file on disk,
        named for a rollback: before the import commits — or rolls back (``failed``: the
        rows are not written, and an error of the pictures' own is not raised over the
        one that stopped the import).
        """
        try:
            if failed:
                if self._pending is not None:
                    self._pending = None
                    try:
                        self._created(*self._process.answers(), raise_error=False)
                    except OSError:  # the process is gone: the error that stopped the import is the one to tell
                        logger.warning("The picture process ended before it answered", exc_info=True)
            else:
                self.flush()
        finally:
            process, self._process = self._process, None
            if process is not None:
                self._created(*process.close(), raise_error=not failed)

    def flush(self):
        """Write the image rows of the batch whose pictures the process had."""
        pending, self._pending = self._pending, None
        if pending is not None:
            answers, error = self._process.answers()
            self._created(answers, error)
            self._write_rows(*pending, iter(answers))

    def _created(self, answers, error, raise_error=True):
        for _what, _key, name, created in answers:
            if created:
                self.ctx.stored_file(name)
        if error and raise_error:
            raise OSError(error)

    def _examiner(self, count):
        """The picture process once enough pictures were examined here, if it may run (a local disk, a fork)."""
        if self._process is None and self._examined + count > self.PROCESS_AFTER:
            if self.placer.local and may_fork():
                self._process = PictureProcess(self.source, self.placer)
        self._examined += count
        return self._process

    def write(self, records, ids):
        # The last batch's rows: the process has examined its pictures meanwhile.
        self.flush()
        with_images = {record.id: record for record in records}
        product_ids = [ids[code] for code in with_images]
        existing, known = {}, {}
        for row in (
            ProductImage.objects.order_by()
            .filter(product_id__in_array=product_ids, code__isnull=False)
            .values(
                "id", "product_id", "code", "caption", "display_order", "original",
                "onec_fingerprint__size", "onec_fingerprint__crc",
            )  # fmt: skip
        ):
            existing.setdefault(row["product_id"], {})[row["code"]] = row
            if row["onec_fingerprint__size"] is not None:
                fingerprint = (row["onec_fingerprint__size"], row["onec_fingerprint__crc"])
                known.setdefault(row["product_id"], {})[fingerprint] = row["code"]
        if not existing and not any(record.images for record in records):
            return
        if self.source is not None:
            self.source.prepare([image.path for record in records for image in record.images])
        # Per product, its pictures in 1C's order: known by the archive's directory (the
        # image code), or a task for examine() (None: its answer, in the same order).
        plan, tasks = [], []
        for code, record in with_images.items():
            product_id = ids[code]
            current_keys = frozenset(existing.get(product_id, ()))
            pictures = []
            for image in record.images:
                fingerprint = self.source.fingerprint(image.path) if self.source is not None else None
                key = known.get(product_id, {}).get(fingerprint) if fingerprint is not None else None
                if key is None:
                    where = self.source.locate(image.path) if self.source is not None else None
                    tasks.append((code, image.path, where, current_keys))
                pictures.append((image, fingerprint, key))
            plan.append((code, record, product_id, pictures))
        process = self._examiner(len(tasks))
        if process is not None and tasks:
            process.submit(tasks)
            self._pending = (plan, existing)
            return
        answers = [examine(task, self.source, self.placer) for task in tasks]
        self._created(answers, None)
        self._write_rows(plan, existing, iter(answers))

    def _write_rows(self, plan, existing, answers):
        """The batch's image rows from what its pictures turned out to be (``answers``, in the tasks' order)."""
        new_images, changed, stale = [], [], []
        #: image code -> (size, CRC-32) to record: new images, and known ones read from an archive.
        fingerprints = {}
        for code, record, product_id, pictures in plan:
            current = existing.get(product_id, {})
            prefix = f"{code}|"
            wanted, complete = {}, True
            for image, fingerprint, key in pictures:
                if key is not None:
                    # The archive's directory says it is this image's content: nothing was read.
                    if key not in wanted:
                        self._keep(current[key], image, len(wanted), changed)
                        wanted[key] = image
                    continue
                what, key, name, _created = next(answers)
                if what == MISSING:
                    complete = False
                    self.incomplete.add(product_id)
                    self.report.warn(
                        f"товар {record.id} «{record.name}»: картинка {image.path} не найдена среди загруженных файлов"
                    )
                    continue
                if key in wanted:
                    continue
                if what == NOT_A_PICTURE:
                    complete = False
                    self.incomplete.add(product_id)
                    self.report.warn(
                        f"товар {record.id} «{record.name}»: файл {image.path} не является "
                        "изображением — картинка пропущена"
                    )
                    continue
                order = len(wanted)
                wanted[key] = image
                if fingerprint is not None:
                    fingerprints[key] = fingerprint
                if what == NEW:
                    caption = (image.caption or "")[:200]
                    new_images.append(
                        ProductImage(product_id=product_id, code=key, caption=caption, display_order=order, original=name)
                    )
                else:
                    self._keep(current[key], image, order, changed)
            if complete:
                stale.extend(
                    row for key, row in current.items() if key.startswith(prefix) and key not in wanted
                )
        if new_images:
            self._insert(new_images)
        if changed:
            ProductImage.objects.bulk_update(changed, ["caption", "display_order"])
        if stale:
            stale_ids = [row["id"] for row in stale]
            ImageFingerprint.objects.filter(image_id__in=stale_ids)._raw_delete(ImageFingerprint.objects.db)
            ProductImage.objects.filter(id__in=stale_ids)._raw_delete(ProductImage.objects.db)
            names = [row["original"] for row in stale if row["original"]]
            self.ctx.after_commit(lambda: delete_files(names))
        if fingerprints:
            self._record_fingerprints(fingerprints, new_images, existing)

    @staticmethod
    def _insert(images):
        """The batch's new images, with their ids (their fingerprints refer to them)."""
        rows = [
            {
                "product_id": image.product_id,
                "code": image.code,
                "caption": image.caption,
                "display_order": image.display_order,
                "original": image.original.name,
            }
            for image in images
        ]
        update = ["caption", "display_order", "original"]
        ids = dict(insert_new(ProductImage, rows, unique=["code"], update=update, returning=["code", "id"]))
        for image in images:
            image.id = ids.get(image.code)

    @staticmethod
    def _keep(row, image, order, changed):
        """A known image listed again: only its caption and place may have changed."""
        caption = (image.caption or "")[:200]
        if row["caption"] != caption or row["display_order"] != order:
            changed.append(ProductImage(id=row["id"], caption=caption, display_order=order))

    @staticmethod
    def _record_fingerprints(fingerprints, new_images, existing):
        """Remember the size and CRC-32 of the members these images were just read from."""
        ids = {image.code: image.id for image in new_images}
        for current in existing.values():
            for key, row in current.items():
                ids.setdefault(key, row["id"])
        new = {image.id for image in new_images}
        rows, new_rows = [], []
        for key, (size, crc) in fingerprints.items():
            if ids.get(key) is not None:
                row = {"image_id": ids[key], "size": size, "crc": crc}
                (new_rows if ids[key] in new else rows).append(row)
        upsert(ImageFingerprint, rows, unique=["image"], update=["size", "crc"])
        insert_new(ImageFingerprint, new_rows, unique=["image"], update=["size", "crc"])


def delete_files(names):
    """Remove replaced pictures and their thumbnails (what Oscar's post_delete receiver does)."""
    thumbnailer = get_thumbnailer()
    for name in names:
        try:
            field_file = ProductImage(original=name).original
            thumbnailer.delete_thumbnails(field_file)
            default_storage.delete(name)
        except Exception:  # a file already gone must not break the import's commit hooks
            logger.warning("Could not delete replaced product image %s", name, exc_info=True)
