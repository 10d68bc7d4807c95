"""
What a product's Товар was when its categories, attribute values and pictures were last
written: a digest kept in the product's 1C state (``ProductExchange.digest``).

1C sends the whole catalogue again and again, almost all of it as it was. Telling an
unchanged product by its rows means reading and comparing them all — its category links,
a dozen attribute values, its pictures — which was most of the importing thread's work on
a repeated catalogue. A digest of the Товар as the shop understood it answers the same
question with one string per product: measured on a repeated 10,000-product catalogue
sent zipped, the importing thread's CPU for import.xml went from 1.8 s to 1.1–1.3 s (the
rest is reading the products' rows and states, and the digests themselves, 20 µs each).

A product is left alone only when all of these hold, else it is written the
straightforward way (and its digest stored anew):

* its product row is as the Товар would write it (compared field by field, as always:
  that also catches a product hidden since, by a full package that did not list it);
* the digest of its Товар equals the stored one. The digest covers the record as the
  reader gave it and the shop cleaned it (``services.content``), the categories its
  groups are now, the sizes and CRC-32 of its pictures as the archive's directory says
  (a picture whose bytes were not known that way is never taken as unchanged), and the
  attribute index it was resolved with (:meth:`.AttributeIndex.fingerprint`: a property
  retyped or an option renamed changes every digest);
* nobody saved the product after the digest was stored (``Product.date_updated``, which
  Oscar's dashboard and Django's admin move on every save, is not after
  ``ProductExchange.written_at``): a manager's edit is undone by the next exchange, as
  1C's data always wins.

Products whose writing gave a warning (a property the classifier does not describe, a
picture missing or not a picture) get no digest: the next exchange looks at them again
and the journal warns again.
"""

import hashlib
import pickle

#: Changed whenever what a product's writes make of a Товар changes, so that every
#: digest stored by an older version is a mismatch.
VERSION = b"product-digest-1"


class ProductDigests:
    """Digests of a catalogue file's Товар records (see the module docstring)."""

    def __init__(self, ctx, attributes, images=None):
        self.ctx = ctx
        self.attributes = attributes
        #: The file's pictures (``ImageWriter.source``): None when the file's pictures are not written.
        self.source = images.source if images is not None else None
        self._context = None
        self._fingerprint = None

    def _context_bytes(self):
        fingerprint = self.attributes.fingerprint()
        if fingerprint is not self._fingerprint:
            self._fingerprint = fingerprint
            self._context = b"|".join([VERSION, str(self.ctx.product_class.pk).encode(), fingerprint])
        return self._context

    def prepare(self, records):
        """Learn the batch's pictures' sizes and CRC-32 (``StorageImageSource.prepare``)."""
        if self.source is not None:
            paths = [image.path for record in records for image in record.images]
            if paths:
                self.source.prepare(paths)

    def of(self, record, category_ids):
        """
        The digest of ``record`` (a Product whose groups are ``category_ids``, in its
        order, None for a group the shop does not have); "" when it cannot be told
        unchanged: its characteristics, or a picture whose content is not known.
        """
        if record.characteristics:
            return ""
        pictures = ()
        if self.source is not None and record.images:
            pictures = tuple(self.source.fingerprint(image.path) for image in record.images)
            if None in pictures:
                return ""
        data = pickle.dumps((record, category_ids, pictures), protocol=pickle.HIGHEST_PROTOCOL)
        return hashlib.blake2b(self._context_bytes() + data, digest_size=16).hexdigest()
