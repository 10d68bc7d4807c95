"""
Product pictures (Картинка) copied from the exchange upload into Oscar's ProductImage.

1C sends every picture of a product again with every full export, so an image is known
by its content: ``ProductImage.code`` = ``<product code>|<sha1 of the file>[:20]``.
Same content -> nothing is written; new content -> a new image; a 1C image the product
no longer lists -> removed (its file too, once the transaction commits). Images a
manager added in the dashboard have no code and are left alone. A listed file that is
missing from the upload gives a warning and leaves that product's images as they were
(1C may be set to not send pictures).
"""

import hashlib
import logging
import posixpath
from pathlib import Path

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import default_storage
from oscar.core.loading import get_model
from oscar.core.thumbnails import get_thumbnailer

ProductImage = get_model("catalogue", "ProductImage")

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


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
    """Pictures uploaded in an exchange: ``<folder>/<path>`` in the ``exchange`` storage."""

    def __init__(self, storage, folder):
        self.storage = storage
        self.folder = (folder or "").strip("/")

    def open(self, path):
        relative = _clean_relative(path)
        if relative is None:
            return None
        name = f"{self.folder}/{relative}" if self.folder else relative
        try:
            if not self.storage.exists(name):
                return None
            return self.storage.open(name, "rb")
        except (SuspiciousFileOperation, OSError):
            return None


class DirectoryImageSource:
    """Pictures next to files imported from a local folder (``import_1c_folder``)."""

    def __init__(self, base_dir):
        self.base_dir = Path(base_dir).resolve()

    def open(self, path):
        relative = _clean_relative(path)
        if relative is None:
            return None
        full = (self.base_dir / relative).resolve()
        if not full.is_relative_to(self.base_dir) or not full.is_file():
            return None
        return open(full, "rb")


def content_hash(fileobj):
    digest = hashlib.sha1()
    for chunk in iter(lambda: fileobj.read(_CHUNK), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def image_code(product_code, digest):
    return f"{product_code}|{digest[:20]}"


class ImageWriter:
    """Syncs the 1C images of a batch of products (one read, one insert, one delete)."""

    def __init__(self, ctx, source):
        self.ctx = ctx
        self.report = ctx.report
        self.source = source

    def write(self, records, ids):
        with_images = {record.id: record for record in records}
        product_ids = [ids[code] for code in with_images]
        existing = {}
        for row in (
            ProductImage.objects.order_by()
            .filter(product_id__in_array=product_ids, code__isnull=False)
            .values("id", "product_id", "code", "caption", "display_order", "original")
        ):
            existing.setdefault(row["product_id"], {})[row["code"]] = row
        if not existing and not any(record.images for record in records):
            return
        new_images, changed, stale = [], [], []
        for code, record in with_images.items():
            product_id = ids[code]
            current = existing.get(product_id, {})
            prefix = f"{code}|"
            wanted, complete = {}, True
            for image in record.images:
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
                    order = len(wanted)
                    wanted[key] = image
                    row = current.get(key)
                    caption = (image.caption or "")[:200]
                    if row is None:
                        new_images.append(self._store(product_id, key, image.path, fileobj, caption, order))
                    elif row["caption"] != caption or row["display_order"] != order:
                        changed.append(ProductImage(id=row["id"], caption=caption, display_order=order))
            if complete:
                stale.extend(
                    row for key, row in current.items() if key.startswith(prefix) and key not in wanted
                )
        if new_images:
            ProductImage.objects.bulk_create(new_images)
        if changed:
            ProductImage.objects.bulk_update(changed, ["caption", "display_order"])
        if stale:
            ProductImage.objects.filter(id__in=[row["id"] for row in stale])._raw_delete(
                ProductImage.objects.db
            )
            names = [row["original"] for row in stale if row["original"]]
            self.ctx.after_commit(lambda: delete_files(names))

    def _store(self, product_id, key, path, fileobj, caption, order):
        """Copy the picture into media storage now; remove it again if the import rolls back."""
        image = ProductImage(product_id=product_id, code=key, caption=caption, display_order=order)
        image.original.save(posixpath.basename(path.replace("\\", "/")), File(fileobj), save=False)
        self.ctx.stored_file(image.original.name)
        return image


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
