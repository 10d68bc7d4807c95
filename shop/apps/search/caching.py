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


def cached(kind, sql, params, compute):
    """
    ``compute()``'s result for the statement ``sql`` with ``params``, from the cache
    when the listing rows have not changed since it was stored.
    """
    if connection.in_atomic_block:
        return compute()
    try:
        key = _key(kind, _version(), f"{sql}\x00{params!r}")
        value = cache.get(key)
    except Exception:
        logger.warning("The listing cache is unavailable; counting directly", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, TIMEOUT)
        except Exception:
            logger.warning("Could not store listing counts in the cache", exc_info=True)
    return value


def _key(kind, version, text):
    """The cache key of ``text`` (a statement, or a fragment's parts) for the listing version."""
    return f"search:{kind}:{version}:{hashlib.sha1(text.encode()).hexdigest()}"
