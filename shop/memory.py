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
"""

import gc
import threading

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
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, max(middle, 20), oldest)
