"""
The filter counts and totals of listing pages, cached until the listing rows change.

A category page's counts are one pass over all its rows — tens of milliseconds for a
top category of 20,000 products — and they are the same for every shopper until the
next 1C exchange changes the catalogue. So they are kept in Django's cache (Redis in
production) under a key made of the very SQL that computes them (the category subtree,
the matching ids of a search and the filters are all in it) and of a *version* that
every refresh of the listing rows replaces when its transaction commits
(:func:`changed`). Nothing has to know which pages a change affects; an entry also
expires on its own after :data:`TIMEOUT`, so a version lost with the cache cannot keep
old counts for long. When the cache is down, pages count directly; so does a reader
inside a transaction (which may hold its own uncommitted changes, as a test does).
"""

import hashlib
import logging
import threading
import uuid

from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "search:listing-version"
#: Seconds a cached count lives at most.
TIMEOUT = 600
#: Seconds a value kept for the versions after it (``cached(…, refresh=…)``) may still be answered.
STALE_TIMEOUT = 3600
#: Where the generation of the values kept for the versions after theirs is (:func:`forget_latest`).
LATEST_KEY = "search:listing-latest"


def changed():
    """The listing rows changed (in the current transaction): cached counts are stale once it commits."""
    transaction.on_commit(_new_version)


#: The version a request read, so that its counts, search and cards ask the cache for it once.
_request = threading.local()


def request_started(**kwargs):
    """A request reads the version once, when it first needs it (``request_started``)."""
    _request.active, _request.version = True, None


def request_finished(**kwargs):
    """Outside requests (a shell, a task) every read asks the cache (``request_finished``)."""
    _request.active, _request.version = False, None


def _new_version():
    version = uuid.uuid4().hex
    try:
        cache.set(VERSION_KEY, version, None)
    except Exception:  # the cache is down: entries expire on their own
        logger.warning("Could not renew the listing cache version", exc_info=True)
        return
    if getattr(_request, "active", False):
        _request.version = version


def _version():
    version = getattr(_request, "version", None)
    if version is not None:
        return version
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, None):
            version = cache.get(VERSION_KEY) or version
    if getattr(_request, "active", False):
        _request.version = version
    return version


def cached_fragment(kind, parts, compute):
    """``compute()``'s result for the key ``parts`` (a tuple), kept until the listing rows change."""
    return cached(kind, repr(parts), (), compute)


def cached_fragments(kind, parts_by_key, compute):
    """
    ``{key: value}`` for every key of ``parts_by_key`` (key -> a tuple of the parts that
    make its cache key): what the cache holds for the current version in one read, the
    rest from ``compute(missing keys)`` (a dict), stored in one write. A product card
    drawn on one page is then drawn again on no other until the listing rows change.
    """
    if connection.in_atomic_block or not parts_by_key:
        return compute(list(parts_by_key))
    try:
        version = _version()
        keys = {key: _key(kind, version, repr(parts)) for key, parts in parts_by_key.items()}
        stored = cache.get_many(list(keys.values()))
    except Exception:
        logger.warning("The listing cache is unavailable; drawing directly", exc_info=True)
        return compute(list(parts_by_key))
    found = {key: stored[cache_key] for key, cache_key in keys.items() if cache_key in stored}
    missing = [key for key in parts_by_key if key not in found]
    if missing:
        made = compute(missing)
        found.update(made)
        try:
            cache.set_many({keys[key]: value for key, value in made.items()}, TIMEOUT)
        except Exception:
            logger.warning("Could not store listing fragments in the cache", exc_info=True)
    return found


def cached(kind, sql, params, compute, refresh=None):
    """
    ``compute()``'s result for the statement ``sql`` with ``params``, from the cache
    when the listing rows have not changed since it was stored.

    ``refresh``, for a costly value that many pages share (the whole listing's counts,
    a pass over every row): while the current version has no value yet, the value of
    an earlier one is answered — counts a change or two behind for a moment — and
    ``refresh()`` is called once per version to have :func:`recompute` store the
    current one in the background. If it cannot (the broker is down), the value is
    computed here.
    """
    if connection.in_atomic_block:
        return compute()
    text = f"{sql}\x00{params!r}"
    try:
        version = _version()
        key = _key(kind, version, text)
        value = cache.get(key)
        if value is None and refresh is not None:
            value = _stale(kind, version, text, refresh)
    except Exception:
        logger.warning("The listing cache is unavailable; counting directly", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        _store(kind, key, text, value, latest=refresh is not None)
    return value


def _stale(kind, version, text, refresh):
    """The value kept from an earlier version, once its refresh is under way; else None."""
    value = cache.get(_latest_key(kind, text))
    if value is None:
        return None
    if cache.add(_key(f"{kind}-refresh", version, text), 1, TIMEOUT):
        try:
            refresh()
        except Exception:
            logger.warning("Could not schedule a refresh of the listing counts; counting directly", exc_info=True)
            cache.delete(_key(f"{kind}-refresh", version, text))
            return None
    return value


def recompute(kind, sql, params, compute):
    """
    ``compute()``'s result stored for the current version and kept for the versions
    after it (what ``cached(…, refresh=…)`` has done in the background).
    """
    text = f"{sql}\x00{params!r}"
    key = _key(kind, _version(), text)  # the version read before the rows: never newer than them
    value = compute()
    _store(kind, key, text, value, latest=True)
    return value


def _store(kind, key, text, value, latest=False):
    try:
        cache.set(key, value, TIMEOUT)
        if latest:
            cache.set(_latest_key(kind, text), value, STALE_TIMEOUT)
    except Exception:
        logger.warning("Could not store listing counts in the cache", exc_info=True)


def _latest_key(kind, text):
    """Where the value of ``text`` is kept for the versions after its own."""
    return _key(kind, f"latest-{cache.get(LATEST_KEY) or 0}", text)


def forget_latest():
    """
    Answer no value kept from an earlier version any more: they belong to another
    catalogue (a test's, or the one before a rebuild of the listing rows).
    """
    try:
        cache.set(LATEST_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("Could not renew the generation of the kept listing counts", exc_info=True)


def _key(kind, version, text):
    """The cache key of ``text`` (a statement, or a fragment's parts) for the listing version."""
    return f"search:{kind}:{version}:{hashlib.sha1(text.encode()).hexdigest()}"
