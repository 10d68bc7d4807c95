"""
The 1C exchange's settings and their defaults, in one place.

Each is read from Django settings (``shop/settings.py`` fills them from the
environment) at the moment of use, so tests can override them.
"""

from django.conf import settings

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
    "ONEC_HIDE_MISSING_ON_FULL": True,
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
    # Product class that 1C products are created in.
    "ONEC_PRODUCT_CLASS_NAME": "Товар",
    # How many records a service writes per bulk statement.
    "ONEC_BATCH_SIZE": 2000,
    # Exchange folders older than this many hours are removed by the cleanup task.
    "ONEC_KEEP_EXCHANGE_HOURS": 72,
    # The journal: an exchange whose files are all applied ends («Завершён» / «Ошибка»)
    # after this many minutes without a call (2.x clients never send mode=complete).
    "ONEC_EXCHANGE_IDLE_MINUTES": 5,
    # The dashboard warns when no exchange succeeded for longer than this many hours.
    "ONEC_EXCHANGE_EXPECTED_HOURS": 1,
}


def get(name):
    return getattr(settings, name, DEFAULTS[name]) if name in DEFAULTS else getattr(settings, name)
