"""
Product pictures' thumbnails, drawn without making a page wait.

* :class:`Thumbnailer` (``OSCAR_THUMBNAILER``) links a thumbnail not made yet to
  :func:`thumbnail_view`, which makes it when the browser asks; :func:`prepare` reads
  whether a whole page's thumbnails exist at once.
* :class:`KVStore` (``THUMBNAIL_KVSTORE``) is sorl-thumbnail's cached database store
  with a small in-process memory in front of it. sorl asks its store twice per card
  (the source image and the thumbnail); what the store holds for an image name does not
  change once the thumbnail exists (a new picture from 1C gets a new name), so each web
  process remembers the answers it read for a few minutes; deletions made in this
  process are forgotten at once, other processes see them when their memory expires.
"""

import threading
import time
from collections import OrderedDict

from django.core import signing
from oscar.core.thumbnails import SorlThumbnail
from sorl.thumbnail.kvstores.cached_db_kvstore import KVStore as CachedDBKVStore

#: How many keys a process remembers, and for how long (seconds).
MEMORY_SIZE = 20_000
MEMORY_SECONDS = 300

_memory = OrderedDict()
_lock = threading.Lock()


class KVStore(CachedDBKVStore):
    """``THUMBNAIL_KVSTORE``: sorl's cached database store, remembered per process (see the module docstring)."""

    def _get_raw(self, key):
        now = time.monotonic()
        with _lock:
            entry = _memory.get(key)
            if entry is not None and entry[0] > now:
                _memory.move_to_end(key)
                return entry[1]
        value = super()._get_raw(key)
        if value is not None:  # only what exists: a thumbnail being made is looked up again
            with _lock:
                _memory[key] = (now + MEMORY_SECONDS, value)
                _memory.move_to_end(key)
                while len(_memory) > MEMORY_SIZE:
                    _memory.popitem(last=False)
        return value

    def _set_raw(self, key, value):
        super()._set_raw(key, value)
        with _lock:
            _memory.pop(key, None)

    def _delete_raw(self, *keys):
        super()._delete_raw(*keys)
        with _lock:
            for key in keys:
                _memory.pop(key, None)

    def clear(self, delete_thumbnails=False):
        super().clear(delete_thumbnails=delete_thumbnails)
        with _lock:
            _memory.clear()


class Thumbnailer(SorlThumbnail):
    """
    ``OSCAR_THUMBNAILER``: Oscar's sorl thumbnailer that never makes a page wait for
    Pillow, and that each process remembers for a few minutes.

    * A thumbnail not made yet (the first view of a page after 1C brought a thousand new
      pictures) is not made while the page renders: the page links to
      :func:`thumbnail_view` instead, which makes it when the browser asks for the picture
      (cards load their pictures lazily, so only the ones a shopper scrolls to) and
      redirects to the file. Pages render in the same time with or without new pictures.
    * sorl rebuilds its image objects and reads a dozen of its settings for every card of
      every page, about a millisecond a card, before it even asks the store. A picture's
      thumbnail for a size stays the same file (a new picture from 1C gets a new name, see
      ``integration_1c.services.images``), so the answer for a source name and options is
      remembered like the store's (:data:`MEMORY_SECONDS`); deleting a source's
      thumbnails here forgets them at once.
    """

    def generate_thumbnail(self, source, **opts):
        name = getattr(source, "name", source)
        if not name or not isinstance(name, str):
            return super().generate_thumbnail(source, **opts)
        key = _memory_key(name, opts)
        now = time.monotonic()
        with _lock:
            entry = _memory.get(key)
            if entry is not None and entry[0] > now:
                _memory.move_to_end(key)
                return entry[1] if entry[1] is not None else Deferred(name, opts)
        thumbnail = existing_thumbnail(source, **opts)
        if thumbnail is None:
            return Deferred(name, opts)
        _remember(key, thumbnail, now)
        return thumbnail

    def make(self, name, **opts):
        """The thumbnail of the media file ``name``, made now when it does not exist yet."""
        thumbnail = super().generate_thumbnail(name, **dict(opts))
        if getattr(thumbnail, "url", None) and thumbnail.exists():
            _remember(_memory_key(name, opts), thumbnail, time.monotonic())
            return thumbnail
        return None

    def delete_thumbnails(self, source):
        super().delete_thumbnails(source)
        name = getattr(source, "name", source)
        with _lock:
            for key in [key for key in _memory if isinstance(key, tuple) and key[:2] == ("thumbnail", name)]:
                _memory.pop(key, None)


def _memory_key(name, opts):
    return ("thumbnail", name, tuple(sorted((option, repr(value)) for option, value in opts.items())))


def _remember(key, thumbnail, now):
    with _lock:
        _memory[key] = (now + MEMORY_SECONDS, thumbnail)
        _memory.move_to_end(key)
        while len(_memory) > MEMORY_SIZE:
            _memory.popitem(last=False)


#: The thumbnail of a product card (``oscar/catalogue/partials/product.html``).
CARD_THUMBNAIL = {"size": "300x300", "upscale": False}
#: How long a process takes "not made yet" for an answer (the browser is about to ask).
NOT_MADE_SECONDS = 10


def card_picture(product):
    """What a product card makes its thumbnail of: its first picture, or Oscar's "no picture" image."""
    image = product.primary_image()
    return image["original"] if isinstance(image, dict) else image.original


def prepare(sources, **opts):
    """
    Look up at once whether the thumbnails of ``sources`` exist, so that drawing a page
    of cards asks sorl's store once rather than once a card (a round trip to the cache
    and, for a picture never drawn, a query each: 24 of them on the first view of a page
    after an exchange brought new pictures). What is found is remembered as
    :class:`Thumbnailer` remembers it; what is not, as "not made yet" for a few seconds.
    """
    from sorl.thumbnail import default
    from sorl.thumbnail.conf import settings as sorl_settings
    from sorl.thumbnail.images import deserialize_image_file
    from sorl.thumbnail.kvstores.base import add_prefix
    from sorl.thumbnail.kvstores.cached_db_kvstore import EMPTY_VALUE
    from sorl.thumbnail.models import KVStore as KVStoreModel

    kvstore = default.kvstore
    if not isinstance(kvstore, CachedDBKVStore):
        return
    now = time.monotonic()
    wanted = {}
    for source in sources:
        name = getattr(source, "name", source)
        if not name or not isinstance(name, str):
            continue
        key = _memory_key(name, opts)
        with _lock:
            entry = _memory.get(key)
        if entry is not None and entry[0] > now:
            continue
        wanted[add_prefix(_thumbnail_file(source, **opts).key, "image")] = key
    if not wanted:
        return
    values = kvstore.cache.get_many(list(wanted))
    missing = [store_key for store_key in wanted if store_key not in values]
    if missing:
        found = dict(KVStoreModel.objects.filter(key__in=missing).values_list("key", "value"))
        kvstore.cache.set_many(
            {store_key: found.get(store_key, EMPTY_VALUE) for store_key in missing},
            sorl_settings.THUMBNAIL_CACHE_TIMEOUT,
        )
        values.update(found)
    for store_key, key in wanted.items():
        value = values.get(store_key)
        if value is None or value == EMPTY_VALUE:
            with _lock:
                _memory[key] = (now + NOT_MADE_SECONDS, None)
        else:
            _remember(key, deserialize_image_file(value), now)


def _thumbnail_file(source, **opts):
    """The sorl image file ``source``'s thumbnail with Oscar's options is (or will be) stored as."""
    from sorl.thumbnail import default
    from sorl.thumbnail.conf import defaults as default_settings
    from sorl.thumbnail.conf import settings as sorl_settings
    from sorl.thumbnail.images import ImageFile

    opts = dict(opts)
    size = opts.pop("size")
    width, height = size.split("x")
    geometry = size if height else width  # as Oscar's SorlThumbnail passes it
    backend = default.backend
    source_file = ImageFile(source)
    if sorl_settings.THUMBNAIL_PRESERVE_FORMAT:
        opts.setdefault("format", backend._get_format(source_file))
    for option, value in backend.default_options.items():
        opts.setdefault(option, value)
    for option, attr in backend.extra_options:
        value = getattr(sorl_settings, attr)
        if value != getattr(default_settings, attr):
            opts.setdefault(option, value)
    return ImageFile(backend._get_thumbnail_filename(source_file, geometry, opts), default.storage)


def existing_thumbnail(source, **opts):
    """
    The thumbnail sorl's store knows for ``source`` with Oscar's options (``size`` and
    the rest), or None when it has not been made: the first half of sorl's
    ``ThumbnailBackend.get_thumbnail`` (sorl-thumbnail 12.11), which names the
    thumbnail from the source and the options merged with sorl's defaults.
    """
    from sorl.thumbnail import default

    return default.kvstore.get(_thumbnail_file(source, **opts)) or None


class Deferred:
    """A thumbnail to be made when the browser asks for it: its ``url`` is :func:`thumbnail_view`'s."""

    def __init__(self, name, opts):
        self.name = name
        self.opts = opts

    @property
    def url(self):
        from django.urls import reverse

        return reverse("thumbnail", kwargs={"token": signing.dumps([self.name, self.opts], salt=TOKEN_SALT)})


#: Signs what a deferred thumbnail's address names, so that nobody else can ask the shop
#: to resize any file to any size.
TOKEN_SALT = "shop.thumbnails"
#: How long a browser may keep the redirect to a made thumbnail (its file never changes).
REDIRECT_MAX_AGE = 24 * 3600


def thumbnail_view(request, token):
    """
    ``/thumbnail/<signed token>/``: makes the thumbnail a page linked to before it
    existed (see :class:`Thumbnailer`) and redirects to its file.
    """
    from django.http import Http404, HttpResponseRedirect

    try:
        name, opts = signing.loads(token, salt=TOKEN_SALT)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise Http404("No such thumbnail") from error
    if not isinstance(name, str) or not isinstance(opts, dict) or "size" not in opts:
        raise Http404("No such thumbnail")
    thumbnail = Thumbnailer().make(name, **opts)
    if thumbnail is None:
        raise Http404("No such picture")
    response = HttpResponseRedirect(thumbnail.url)
    response["Cache-Control"] = f"public, max-age={REDIRECT_MAX_AGE}"
    return response
