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
from the image code (``images/products/1c/<3 hex>/<name>_<hex>.<ext>``): spread over
4,096 sub-folders instead of one folder of 100,000 files, and the same for the same
picture of the same product, so an import that is repeated after a crash finds its
file in place instead of making a second one.
"""

import hashlib
import logging
import os
import posixpath
import signal
from collections import deque
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
from integration_1c.selectors import session_files_named

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
    or, for the files of session ``session_id`` an archive left packed, the member in
    that archive (:meth:`prepare` learns which, for a batch at a time).
    """

    def __init__(self, storage, folder, session_id=None):
        self.storage = storage
        self.folder = (folder or "").strip("/")
        self.session_id = session_id
        self._packed = {}
        self._archives = {}  # archive name -> open file, for one batch

    def _name(self, path):
        relative = _clean_relative(path)
        if relative is None:
            return None
        return f"{self.folder}/{relative}" if self.folder else relative

    def prepare(self, paths):
        """Which of these pictures (a batch's) are left packed in an archive: one query."""
        self.close()
        if self.session_id is None:
            return
        names = {_clean_relative(path) for path in paths} - {None}
        if not names:
            return
        for _pk, name, packed in session_files_named(self.session_id, names):
            self._packed[name] = Packed.from_json(packed) if packed else None  # the latest row of a name wins

    def close(self):
        """Close the archives the last batch read pictures from."""
        self._packed = {}
        archives, self._archives = self._archives, {}
        for raw in archives.values():
            raw.close()

    def _packed_member(self, path):
        relative = _clean_relative(path)
        return self._packed.get(relative) if relative is not None else None

    def fingerprint(self, path):
        """``(size, CRC-32)`` of a picture left packed, as its archive's directory says; else None."""
        packed = self._packed_member(path)
        return packed.fingerprint if packed is not None else None

    def open(self, path):
        name = self._name(path)
        if name is None:
            return None
        packed = self._packed_member(path)
        if packed is not None:
            return self._open_packed(packed)
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

    def local_path(self, path):
        """The file on disk behind ``path`` (a picture to link), or None for a non-local storage."""
        name = self._name(path)
        if name is None or not isinstance(self.storage, FileSystemStorage) or self._packed_member(path):
            return None
        try:
            return self.storage.path(name)
        except (NotImplementedError, SuspiciousFileOperation):
            return None


class DirectoryImageSource:
    """Pictures next to files imported from a local folder (``import_1c_folder``)."""

    def __init__(self, base_dir):
        self.base_dir = Path(base_dir).resolve()

    def _full(self, path):
        relative = _clean_relative(path)
        if relative is None:
            return None
        full = (self.base_dir / relative).resolve()
        if not full.is_relative_to(self.base_dir) or not full.is_file():
            return None
        return full

    def open(self, path):
        full = self._full(path)
        return open(full, "rb") if full is not None else None

    def local_path(self, path):
        full = self._full(path)
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


def picture_name(key, path, found_format):
    """The media name of image ``key``: derived from it, spread over sub-folders."""
    spread = hashlib.sha1(key.encode("utf-8")).hexdigest()
    stem = posixpath.splitext(posixpath.basename((path or "").replace("\\", "/")))[0]
    stem = default_storage.get_valid_name(stem)[:60].strip("._-") or "picture"
    return f"{PICTURE_FOLDER}/{spread[:3]}/{stem}_{spread[3:15]}{PICTURE_FORMATS[found_format]}"


class PicturePlacer:
    """
    Puts picture files into the media storage under a given name, as cheaply as the
    storages allow: a hard link from the exchange upload when both are folders of one
    file system, else the bytes written once (into a local folder, or through the
    storage's ``save`` for any other). A name that already holds a file of the picture's
    size is left as it is: names are derived from the image code, so it holds this
    picture (a shorter one is what a crashed import left half-written, and is replaced).

    Pictures read from an archive are written, once an import has placed
    :data:`WRITER_AFTER` of them, by a process of its own (:class:`PictureFiles`): creating
    118,000 files took a 100,000-product import 40 s of its own time, which now runs on
    the machine's other core beside the database's work. Their names are known at
    :meth:`collect` (between batches) and :meth:`close` (before the import commits).
    """

    #: Pictures placed in this process before a writing process is started for the rest.
    WRITER_AFTER = 200

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
        self._files = None

    def place(self, name, fileobj, local_path=None):
        """
        Store the picture; returns ``(stored name, created)``, ``created`` None when a
        writing process creates the file (:meth:`collect` names it then).
        """
        if not self.local:
            if self.storage.exists(name):
                return name, False
            self.copied += 1
            return self.storage.save(name, File(fileobj, name=posixpath.basename(name))), True
        target = self.storage.path(name)
        if self.link and local_path:
            self._folder(target)
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
        if self._files is None and self.copied > self.WRITER_AFTER and may_fork():
            self._files = PictureFiles(self._mode)
        if self._files is not None:
            self._files.put(name, target, data)
            return name, None
        self._folder(target)
        return name, write_picture(target, data, self._mode)

    def _folder(self, target):
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)

    def collect(self):
        """
        ``(names, error)``: the files the writing process has reported created since the
        last call, and the first error it met (a full disk), or None. It does not wait
        for the writing process: that runs behind the import by as much as its pipe holds.
        """
        return self._files.collect() if self._files is not None else ([], None)

    def close(self):
        """What :meth:`collect` gives; the writing process ends."""
        files, self._files = self._files, None
        return files.close() if files is not None else ([], None)


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


class PictureFiles:
    """
    A forked process that creates picture files (:func:`write_picture`) while the import
    goes on. Pictures travel through a pipe widened to :data:`AHEAD_BYTES`, so that the
    import sends a batch's pictures at once and goes on with its writes while they are
    created (a per-batch wait for the files made a 10,000-product import wait seconds
    for the disk). The process answers a question (``None`` in the pipe) with what it
    did since the last one: how many pictures, which of them it created (a bitmap: the
    answer stays small, and the process never blocks on it while the importer blocks on
    the pictures' pipe), and its first error (a full disk). :meth:`collect` takes an
    answer if there is one and asks again, :meth:`sync` waits for everything sent.
    The process ends at :meth:`close`, or when the importer is gone (its pipe closes).
    """

    #: Bytes of pictures the import may send ahead of the files' creation (the kernel
    #: caps a pipe at /proc/sys/fs/pipe-max-size, 1 MB by default).
    AHEAD_BYTES = 1 << 20

    def __init__(self, mode):
        their_pictures, pictures = Pipe(duplex=False)
        answers, their_answers = Pipe(duplex=False)
        for end in (pictures, their_answers):
            widen_pipe(end, self.AHEAD_BYTES)
        self.pid = os.fork()
        if self.pid == 0:
            pictures.close()
            answers.close()
            code = 0
            try:
                _write_pictures(their_pictures, their_answers, mode)
            except BaseException:  # the importer is gone: nobody to tell
                code = 1
            finally:
                os._exit(code)
        their_pictures.close()
        their_answers.close()
        self.pictures, self.answers = pictures, answers
        #: Names sent that no answer has accounted for yet, in the order sent.
        self.sent = deque()
        self.asked = False

    def put(self, name, target, data):
        self.pictures.send((name, target, data))
        self.sent.append(name)

    def collect(self):
        created, error = [], None
        if self.asked and self.answers.poll():
            created, error = self._answer()
        if not self.asked and self.sent:
            self._ask()
        return created, error

    def sync(self):
        created, error = [], None
        if self.asked:
            created, error = self._answer()
        if self.sent:  # sent after the question just answered
            self._ask()
            more, later = self._answer()
            created, error = created + more, error or later
        return created, error

    def _ask(self):
        self.pictures.send(None)
        self.asked = True

    def _answer(self):
        count, flags, error = self.answers.recv()
        self.asked = False
        names = [self.sent.popleft() for _ in range(count)]
        return [name for index, name in enumerate(names) if flags[index >> 3] & (1 << (index & 7))], error

    def close(self):
        try:
            return self.sync()
        finally:
            self.pictures.close()  # the process ends when it sees the pipe closed
            self.answers.close()
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


def _write_pictures(pictures, answers, mode):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    folders, count, created, error = set(), 0, bytearray(), None
    while True:
        try:
            message = pictures.recv()
        except EOFError:
            return
        if message is None:
            answers.send((count, bytes(created), error))
            count, created, error = 0, bytearray(), None
            continue
        index, count = count, count + 1
        if index % 8 == 0:
            created.append(0)
        if error is not None:
            continue  # the importer fails at its next answer: what is sent meanwhile is not written
        name, target, data = message
        try:
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if write_picture(target, data, mode):
                created[index >> 3] |= 1 << (index & 7)
        except OSError as exc:
            error = f"{name}: {exc.strerror or exc}"


class ImageWriter:
    """Syncs the 1C images of a batch of products (one read, one insert, one delete)."""

    def __init__(self, ctx, source, placer=None):
        self.ctx = ctx
        self.report = ctx.report
        self.source = source
        self.placer = placer or PicturePlacer()

    def close(self, failed=False):
        """
        Every picture of the file on disk, and named for a rollback: before the import
        commits — or rolls back (``failed``: an error of the pictures' own is not raised
        over the one that stopped the import).
        """
        self._created(*self.placer.close(), raise_error=not failed)

    def _created(self, names, error, raise_error=True):
        for name in names:
            self.ctx.stored_file(name)
        if error and raise_error:
            raise OSError(error)

    def write(self, records, ids):
        # The last batch's pictures, written meanwhile by the writing process.
        self._created(*self.placer.collect())
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
        new_images, changed, stale = [], [], []
        #: image code -> (size, CRC-32) to record: new images, and known ones read from an archive.
        fingerprints = {}
        for code, record in with_images.items():
            product_id = ids[code]
            current = existing.get(product_id, {})
            prefix = f"{code}|"
            wanted, complete = {}, True
            for image in record.images:
                fingerprint = self.source.fingerprint(image.path) if self.source is not None else None
                key = known.get(product_id, {}).get(fingerprint) if fingerprint is not None else None
                if key is not None:
                    # The archive's directory says it is this image's content: nothing to read.
                    if key not in wanted:
                        self._keep(current[key], image, len(wanted), changed)
                        wanted[key] = image
                    continue
                fileobj = self.source.open(image.path) if self.source is not None else None
                if fileobj is None:
                    complete = False
                    self.report.warn(
                        f"товар {record.id} «{record.name}»: картинка {image.path} не найдена среди загруженных файлов"
                    )
                    continue
                with fileobj:
                    key = image_code(code, content_hash(fileobj))
                    if key in wanted:
                        continue
                    row, found = current.get(key), None
                    if row is None:
                        # Only new content is looked at: a known key passed this check before.
                        found = picture_format(fileobj)
                        if found is None:
                            complete = False
                            self.report.warn(
                                f"товар {record.id} «{record.name}»: файл {image.path} не является "
                                "изображением — картинка пропущена"
                            )
                            continue
                    order = len(wanted)
                    wanted[key] = image
                    caption = (image.caption or "")[:200]
                    if fingerprint is not None:
                        fingerprints[key] = fingerprint
                    if row is None:
                        new_images.append(
                            self._store(product_id, key, image.path, fileobj, found, caption, order)
                        )
                    else:
                        self._keep(row, image, order, changed)
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

    def _store(self, product_id, key, path, fileobj, found, caption, order):
        """Place the picture in media storage now; remove it again if the import rolls back."""
        local_path = self.source.local_path(path) if hasattr(self.source, "local_path") else None
        name, created = self.placer.place(picture_name(key, path, found), fileobj, local_path)
        if created:
            self.ctx.stored_file(name)  # (None: the writing process names it at collect/close)
        return ProductImage(
            product_id=product_id, code=key, caption=caption, display_order=order, original=name
        )


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
