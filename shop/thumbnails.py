"""
sorl-thumbnail's key-value store with a small in-process memory in front of it.

Every product card asks sorl for its thumbnail, and sorl asks its store twice per
card (the source image and the thumbnail) — two cache round trips per card, a page of
24 cards costs some 50 of them. What the store holds for an image name does not change
once the thumbnail exists (a new picture from 1C gets a new name), so each web process
remembers the answers it read for a few minutes; deletions made in this process are
forgotten at once, other processes see them when their memory expires.
"""

import threading
import time
from collections import OrderedDict

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
    ``OSCAR_THUMBNAILER``: Oscar's sorl thumbnailer, with each process remembering the
    thumbnails it handed out for a few minutes.

    sorl rebuilds its image objects and reads a dozen of its settings for every card of
    every page, about a millisecond a card, before it even asks the store. A picture's
    thumbnail for a size stays the same file (a new picture from 1C gets a new name, see
    ``integration_1c.services.images``), so the answer for a source name and options is
    remembered like the store's (:data:`MEMORY_SECONDS`); deleting a source's thumbnails
    here forgets them at once.
    """

    def generate_thumbnail(self, source, **opts):
        name = getattr(source, "name", source)
        if not name or not isinstance(name, str):
            return super().generate_thumbnail(source, **opts)
        key = ("thumbnail", name, tuple(sorted((option, repr(value)) for option, value in opts.items())))
        now = time.monotonic()
        with _lock:
            entry = _memory.get(key)
            if entry is not None and entry[0] > now:
                _memory.move_to_end(key)
                return entry[1]
        thumbnail = super().generate_thumbnail(source, **dict(opts))
        if getattr(thumbnail, "url", None):
            with _lock:
                _memory[key] = (now + MEMORY_SECONDS, thumbnail)
                while len(_memory) > MEMORY_SIZE:
                    _memory.popitem(last=False)
        return thumbnail

    def delete_thumbnails(self, source):
        super().delete_thumbnails(source)
        name = getattr(source, "name", source)
        with _lock:
            for key in [key for key in _memory if isinstance(key, tuple) and key[:2] == ("thumbnail", name)]:
                _memory.pop(key, None)
