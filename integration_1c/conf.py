"""
The 1C exchange's settings and their defaults, in one place.

Each is read at the moment of use. Those the owner edits in the admin
(``CONSTANCE_CONFIG`` in ``shop/settings.py``: price types, warehouses, the full-package
rule, the order rules, the shop's identity) come from the database when a value was saved
there; otherwise, like every other setting, from Django settings (``shop/settings.py`` fills
them from the environment), so tests can override them with the ``settings`` fixture.

Database values are read all at once, at most once per request (the snapshot is dropped when
a request starts) and outside requests (imports, tasks) at most every ``SNAPSHOT_SECONDS``: a
page or an import that reads many of them costs one query, and a change saved in the admin
is effective from the next request on.
"""

import json
import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

#: How long a process keeps the database values before reading them again.
SNAPSHOT_SECONDS = 2.0

DEFAULTS = {
    # Selling price type: the 1C price type's name or Ид. Empty: the first type 1C sends.
    "ONEC_PRICE_TYPE": "",
    # Price type shown crossed out when higher than the selling price (name or Ид).
    "ONEC_OLD_PRICE_TYPE": "",
    # Largest chunk 1C may POST in one mode=file call (answered in mode=init).
    "ONEC_FILE_LIMIT": 8 * 1024 * 1024,
    # Offer zip=yes in mode=init.
    "ONEC_USE_ZIP": True,
    # Limits on an uploaded archive: total unpacked bytes, member count, ratio.
    "ONEC_MAX_UNZIPPED_SIZE": 4 * 1024 * 1024 * 1024,
    "ONEC_MAX_ZIP_MEMBERS": 200_000,
    "ONEC_MAX_ZIP_RATIO": 200,
    # A full package (СодержитТолькоИзменения="false") hides what it does not list.
    # Kept for old environments: false makes ONEC_FULL_PACKAGE_MISSING default to "keep".
    "ONEC_HIDE_MISSING_ON_FULL": True,
    # What a full package does to products of its catalogue it does not list:
    # "hide" (not public), "keep" (as they are) or "zero" (kept, with no stock).
    "ONEC_FULL_PACKAGE_MISSING": "hide",
    # Warehouses (1C Ид or name) the shop sells from; empty: all of them.
    "ONEC_SELLING_WAREHOUSES": [],
    # Partner code of the stock record the shop sells from (the sum of the selling
    # warehouses, minus reservations); see integration_1c/services/stock.py.
    "ONEC_SALES_PARTNER_CODE": "site",
    "ONEC_SALES_PARTNER_NAME": "Интернет-магазин",
    # Warehouse used when an offer carries only a total quantity (Количество).
    "ONEC_DEFAULT_WAREHOUSE_CODE": "1c-total",
    "ONEC_DEFAULT_WAREHOUSE_NAME": "Склад",
    # "Only N left" below this many.
    "ONEC_LOW_STOCK_THRESHOLD": 5,
    # Orders to 1C: encoding of mode=query answers (utf-8 with BOM, or windows-1251).
    "ONEC_ORDER_ENCODING": "utf-8",
    # Orders go to 1C from this status on; empty: every order as soon as it is placed.
    "ONEC_ORDER_EXPORT_FROM_STATUS": "",
    # 1C order status (Ид or name) -> the shop's status.
    "ONEC_ORDER_STATUS_MAP": {},
    # What a 1C document's events do to the order's status: {"shipped"|"paid"|"posted":
    # shop status}; merged over services.orders.EVENT_STATUS_DEFAULTS, "" switches one off.
    "ONEC_ORDER_EVENT_STATUS_MAP": {},
    # Product class that 1C products are created in.
    "ONEC_PRODUCT_CLASS_NAME": "Товар",
    # How many records a service writes per bulk statement.
    "ONEC_BATCH_SIZE": 2000,
    # Exchange folders older than this many hours are removed by the cleanup task.
    "ONEC_KEEP_EXCHANGE_HOURS": 72,
    # The worker importing a file renews its lease on it; a lease not renewed for this
    # many seconds means the worker died, and the next mode=import answers failure.
    "ONEC_WORKER_LEASE_SECONDS": 120,
    # A successful exchange login (HTTP Basic) is remembered this many seconds, so that
    # 1C's two logins per exchange do not each pay the password hasher (0: always check).
    "ONEC_LOGIN_CACHE_SECONDS": 15 * 60,
    # A file no worker picked up within this many seconds is answered failure.
    "ONEC_QUEUE_TIMEOUT_SECONDS": 30 * 60,
    # A mode=import call whose file the worker has waits at most this many seconds for
    # its state to change before answering progress (0: at once). 1C asks again the
    # moment it reads progress: this keeps its calls from using a core all import long.
    "ONEC_PROGRESS_WAIT_SECONDS": 0.5,
    # Uploads: a POST may exceed the announced file_limit by this many bytes (headers
    # of multipart-less clients, rounding); bigger POSTs are refused.
    "ONEC_FILE_LIMIT_MARGIN": 64 * 1024,
    # Largest file and largest total of one exchange run (session), in bytes. Sized for a
    # 100,000-product catalogue with pictures sent as one zip (about 12 GB of pictures).
    "ONEC_MAX_FILE_SIZE": 8 * 1024 * 1024 * 1024,
    "ONEC_MAX_SESSION_UPLOAD": 24 * 1024 * 1024 * 1024,
    # Free space the exchange storage must keep after a chunk (a full disk answers failure).
    "ONEC_MIN_FREE_DISK": 256 * 1024 * 1024,
    # A single text node of a CommerceML file longer than this many bytes is cut (warning).
    "ONEC_MAX_TEXT_NODE": 1024 * 1024,
    # The journal: an exchange whose files are all applied ends («Завершён» / «Ошибка»)
    # after this many minutes without a call (2.x clients never send mode=complete).
    "ONEC_EXCHANGE_IDLE_MINUTES": 5,
    # The dashboard warns when no exchange succeeded for longer than this many hours.
    "ONEC_EXCHANGE_EXPECTED_HOURS": 1,
}




def _as_list(value):
    """Comma- or newline-separated text (as typed in the admin) or a list: a list of names."""
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    return [item.strip() for item in value or [] if item and str(item).strip()]


def _as_mapping(value):
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            logger.warning("Setting is not a JSON object, ignored: %r", value)
            return {}
    return dict(value or {})


#: How a stored value is read, for the settings that are not plain text.
PARSERS = {
    "ONEC_SELLING_WAREHOUSES": _as_list,
    "ONEC_ORDER_STATUS_MAP": _as_mapping,
    "ONEC_ORDER_EVENT_STATUS_MAP": _as_mapping,
}

_local = threading.local()


def database_keys():
    return getattr(settings, "CONSTANCE_CONFIG", {})


def _stored_values():
    """The values saved in the admin (only those saved), one query per ``SNAPSHOT_SECONDS``."""
    now = time.monotonic()
    if now - getattr(_local, "at", -SNAPSHOT_SECONDS) < SNAPSHOT_SECONDS:
        return _local.values
    from constance import config

    try:
        values = config._backend.mget(list(database_keys()))
    except Exception:  # noqa: BLE001  (no database yet: migrate, a failing database)
        logger.debug("Settings in the database are unreadable; environment values used", exc_info=True)
        values = {}
    _local.at, _local.values = now, values
    return values


def forget_stored_values(**kwargs):
    """
    Drop this thread's snapshot: connected in ``apps.py`` to ``request_started`` (every
    request reads afresh) and to constance's ``config_updated`` (a save is seen at once).
    """
    _local.__dict__.clear()


def _environment_value(name):
    return getattr(settings, name, DEFAULTS[name]) if name in DEFAULTS else getattr(settings, name)


def get(name):
    if name in database_keys():
        stored = _stored_values()
        value = stored[name] if name in stored else _environment_value(name)
    else:
        value = _environment_value(name)
    parser = PARSERS.get(name)
    return parser(value) if parser else value


def get_many(names):
    """Several settings at once (one snapshot read): ``{name: value}``."""
    return {name: get(name) for name in names}
