"""
The web process's garbage collector, kept from stalling requests.

Python's oldest-generation collection walks every object the process holds: Django's,
Oscar's and every module's, about 160,000 once the shop has served a page, plus the
garbage of the requests before. On the 100,000-product benchmark it ran every dozen or
two uncached pages and took 80–180 ms each time, which landed on whichever request
happened to be running: many of the slowest category and search pages were such pauses,
not the pages' own work. Two settings, as long-lived WSGI workers commonly use:

* once the process has served its first request (URL resolvers, templates, translations
  and the strategy's lookups loaded), what it holds lives as long as the process and is
  moved out of the collector's sight (``gc.freeze()``);
* the youngest generation is collected every :data:`YOUNG_THRESHOLD` allocations instead
  of 700: a page's querysets and model instances (cycles through their caches) then mostly
  die young, in collections of a few milliseconds, rather than being promoted while the
  page is still drawing and piling up for a long full collection.

Measured on 50 uncached category pages of that catalogue: full collections went from
three of 80–180 ms to none, the collector's time from 515 to 295 ms. ``GC_FREEZE=false``
leaves the collector as Python sets it.

A 1C import in the Celery worker (or ``import_1c_folder``) has the same trouble, worse:
it allocates records, rows and dictionaries by the million, and every full collection
walked the worker's whole heap. :func:`frozen_during` gives a long job the same two
settings for its duration, and gives the objects back to the collector afterwards.
"""

import gc
import threading
from contextlib import contextmanager

from django.conf import settings
from django.core.signals import request_finished

#: Allocations between two collections of the youngest generation (Python's default is 700).
YOUNG_THRESHOLD = 10_000

_lock = threading.Lock()
_frozen = False


def freeze_after_first_request():
    """Tune the collector and freeze what the process holds once its first request has finished."""
    request_finished.connect(_freeze, dispatch_uid="shop.memory.freeze")


def _freeze(**kwargs):
    global _frozen  # pylint: disable=global-statement
    with _lock:
        if _frozen:
            return
        _frozen = True
    request_finished.disconnect(_freeze, dispatch_uid="shop.memory.freeze")
    gc.collect()
    gc.freeze()
    _collect_young_less_often()


def _collect_young_less_often():
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, max(middle, 20), oldest)


@contextmanager
def frozen_during():
    """
    What the process holds now out of the collector's sight, and the youngest generation
    collected every :data:`YOUNG_THRESHOLD` allocations, while the block runs; both put
    back after it. For a long job in a process's main thread (the Celery worker, a
    management command): the processes it forks (the import's reader and pictures)
    inherit the frozen heap and do not walk it either.

    Measured on a 10,000-product exchange imported in-process: the collector's time went
    from 1.4 s (eleven full collections of about 100 ms) to 0.4 s of the first import's
    14 s, and the reading process's from 0.6 to 0.1 s.

    A process that froze already (the web process, :func:`freeze_after_first_request`;
    the embedded shop imports in a thread of it) is left as it is: giving its objects
    back afterwards would undo what it froze for good.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not settings.GC_FREEZE or gc.get_freeze_count() or not in_main_thread:
        yield
        return
    threshold = gc.get_threshold()
    gc.freeze()
    _collect_young_less_often()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
