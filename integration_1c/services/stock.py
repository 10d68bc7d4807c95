"""
The sales stock record: the one place that decides how the shop's reservations combine
with 1C's stock figures.

Every sellable 1C product (a standalone product or a variant) has one stock record per
1C warehouse (Partner ``code`` = warehouse Ид, ``partner_sku`` = offer Ид) holding what
1C reported, and ONE MORE on the sales partner (conf ``ONEC_SALES_PARTNER_CODE``), same
``partner_sku``. The shop sells from that sales record only: Oscar's strategy selects it,
basket and order lines point at it, checkout allocates on it under ``select_for_update``.

The rule, applied by :func:`recompute_sales_stock` after every stock import:

* ``num_in_stock`` = the sum of the per-warehouse quantities of the SELLING warehouses
  (conf ``ONEC_SELLING_WAREHOUSES``: warehouse Ид or names; empty = every warehouse).
  The total-quantity warehouse (conf ``ONEC_DEFAULT_WAREHOUSE_CODE``, used when 1C sends
  only ``Количество``) stands for all of 1C's stock and always counts.
* ``num_allocated`` = the shop's reservations 1C does not know of yet: the sum of
  ``order.Line.num_allocated`` of lines on that record whose allocation was not
  cancelled, whose order is not cancelled (the shop's cancelled status), and whose order
  1C had NOT acknowledged (``OrderExchange.acknowledged_at``, set by
  ``type=sale&mode=success``) before ``counted_before`` — the start of the exchange
  session that uploaded the stock file. An order 1C acknowledged before that moment is
  already reserved or shipped in 1C, so 1C's figure accounts for it; one acknowledged
  later (or never) is not in the figure yet and stays reserved here.

Available to sell = ``num_in_stock - num_allocated``: nothing is counted twice, nothing
is lost. Whoever changes the inputs later (an order cancelled, an acknowledgement)
may call :func:`recompute_sales_stock` again; without ``counted_before`` it uses the
start of the last session whose stock file was applied (:func:`stock_counted_at`).

Concurrency: the sales records are locked (``SELECT … FOR UPDATE``, in id order) and
read again before the reservations are read, in a statement of their own. A checkout that allocated on one of
them has then committed, so the reservations query, a new statement, sees its order
line; a checkout that comes later waits for the import to commit and adds its
allocation on top of the recomputed figure.
"""

import threading
from array import array
from contextlib import contextmanager

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from oscar.core.loading import get_model

from integration_1c import conf
from integration_1c.models import ExchangeFile, ExchangeSession

Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
StockAlert = get_model("partner", "StockAlert")
Line = get_model("order", "Line")

STOCK_KINDS = ("offers", "offers_changes")

_recording = threading.local()


@contextmanager
def recording_writes():
    """
    Collect the ids of the products (variants as themselves) whose stock records are
    written, deleted or zeroed in this thread while the block runs: the importer hands
    them to the listing refresh, which needs no index on the records' ``date_updated``
    to find them (an index that made every stock update rewrite all the table's indexes,
    see ``shop.apps.partner.models.StockRecord``). Ids are kept in a compact array
    (duplicates and all) until the block ends: a full import writes the stock of every
    product, and a set of 170,000 ids would cost the worker 13 MB for the whole import.
    """
    previous = getattr(_recording, "ids", None)
    _recording.ids = ids = array("q")
    try:
        yield ids
    finally:
        _recording.ids = previous


def stock_written(product_ids):
    """Every writer of stock records calls this with the products it wrote (see above)."""
    ids = getattr(_recording, "ids", None)
    if ids is not None:
        ids.extend(set(product_ids))


def sales_partner():
    """The Partner the shop sells from (created on first use)."""
    partner, _ = Partner.objects.get_or_create(
        code=conf.get("ONEC_SALES_PARTNER_CODE"), defaults={"name": conf.get("ONEC_SALES_PARTNER_NAME")}
    )
    return partner


def default_warehouse():
    """The warehouse of offers that carry only a total ``Количество``."""
    partner, _ = Partner.objects.get_or_create(
        code=conf.get("ONEC_DEFAULT_WAREHOUSE_CODE"),
        defaults={"name": conf.get("ONEC_DEFAULT_WAREHOUSE_NAME")},
    )
    return partner


def selling_partner_ids():
    """Partner ids of the selling warehouses, or None for "every warehouse"."""
    wanted = [value for value in conf.get("ONEC_SELLING_WAREHOUSES") or [] if value]
    if not wanted:
        return None
    ids = set(
        Partner.objects.filter(
            Q(code__in=wanted) | Q(name__in=wanted) | Q(code=conf.get("ONEC_DEFAULT_WAREHOUSE_CODE"))
        ).values_list("id", flat=True)
    )
    return ids


def cancelled_statuses():
    """The shop's cancelled order status(es), as the orders side defines them."""
    from integration_1c.selectors import cancelled_status

    status = cancelled_status()
    return [status] if status else []


def order_status_changed(order, old_status, new_status):
    """
    An order was cancelled on the site (a manager in the dashboard) or taken back from
    cancelled: its reservations leave (or return to) the sales records at once, so its
    stock is for sale again without waiting for 1C's next exchange.
    """
    cancelled = cancelled_statuses()
    if (new_status in cancelled) == (old_status in cancelled):
        return 0
    product_ids = {pk for pk in order.lines.values_list("product_id", flat=True) if pk}
    return recompute_sales_stock(product_ids) if product_ids else 0


def stock_counted_at():
    """Start of the latest exchange session whose stock file was applied (None if none)."""
    session = (
        ExchangeSession.objects.filter(
            Exists(
                ExchangeFile.objects.filter(
                    session=OuterRef("pk"), kind__in=STOCK_KINDS, state=ExchangeFile.DONE
                )
            )
        )
        .order_by("-started_at")
        .first()
    )
    return session.started_at if session else None


def unreflected_lines(counted_before):
    """Order lines whose reservation 1C's stock figures (counted at ``counted_before``) miss."""
    lines = Line.objects.filter(allocation_cancelled=False, num_allocated__gt=0)
    cancelled = cancelled_statuses()
    if cancelled:
        lines = lines.exclude(order__status__in=cancelled)
    if counted_before is not None:
        lines = lines.filter(
            Q(order__onec__isnull=True)
            | Q(order__onec__acknowledged_at__isnull=True)
            | Q(order__onec__acknowledged_at__gte=counted_before)
        )
    return lines


class SalesStockRule:
    """
    The rule above as code, for one moment of counting. Both the offers import (which
    knows the new warehouse quantities in memory) and :func:`recompute_sales_stock`
    (which reads them) decide through this class, so the rule lives in one place.
    """

    def __init__(self, counted_before=None):
        self.counted_before = counted_before if counted_before is not None else stock_counted_at()
        self.sales_id = sales_partner().pk
        self.selling = selling_partner_ids()

    def counts(self, partner_id):
        """Whether a warehouse's quantity is for sale in the shop."""
        return partner_id != self.sales_id and (self.selling is None or partner_id in self.selling)

    def in_stock(self, quantities):
        """``num_in_stock`` of a sales record from ``{warehouse partner id: quantity}``."""
        return sum(quantity or 0 for partner_id, quantity in quantities.items() if self.counts(partner_id))

    def reserved(self, stockrecord_ids):
        """``num_allocated`` of sales records: ``{stock record id: reservations 1C misses}``."""
        if not stockrecord_ids:
            return {}
        return dict(
            unreflected_lines(self.counted_before)
            .filter(stockrecord_id__in_array=list(stockrecord_ids))
            .order_by()
            .values("stockrecord_id")
            .annotate(total=Sum("num_allocated"))
            .values_list("stockrecord_id", "total")
        )


def read_stock_records(product_ids, fields, *, sales_id=None):
    """
    The stock records of these products, sales records locked. Rows are read by
    product (indexed) without a lock, then the sales records are locked by id, in id
    order, and read again: a checkout allocating on one of them has committed once the
    lock is granted, so their figures are fresh and a following statement sees its
    order line. Warehouse records are written by the import only.
    """
    rows = list(
        StockRecord.objects.order_by().filter(product_id__in_array=list(product_ids)).values("pk", *fields)
    )
    sales_id = sales_id or sales_partner().pk
    sales = {row["pk"]: row for row in rows if row["partner_id"] == sales_id}
    if sales:
        fresh = (
            StockRecord.objects.filter(pk__in_array=sorted(sales))
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "num_in_stock", "num_allocated")
        )
        for pk, num_in_stock, num_allocated in fresh:
            sales[pk]["num_in_stock"], sales[pk]["num_allocated"] = num_in_stock, num_allocated
    return rows


def recompute_sales_stock(product_ids, *, counted_before=None):
    """
    Apply the rule above to the sales records of ``product_ids`` (an iterable of ids), reading the
    warehouse quantities from the database. Returns how many records changed.
    """
    from .bulk import update_rows

    rule = SalesStockRule(counted_before)
    rows = read_stock_records(
        product_ids,
        ["product_id", "partner_id", "partner_sku", "num_in_stock", "num_allocated"],
        sales_id=rule.sales_id,
    )
    quantities = {}
    for row in rows:
        if row["partner_id"] != rule.sales_id:
            key = (row["product_id"], row["partner_sku"])
            quantities.setdefault(key, {})[row["partner_id"]] = row["num_in_stock"]
    sales_rows = [row for row in rows if row["partner_id"] == rule.sales_id]
    reserved = rule.reserved([row["pk"] for row in sales_rows])
    changed = []
    for row in sales_rows:
        in_stock = rule.in_stock(quantities.get((row["product_id"], row["partner_sku"]), {}))
        allocated = reserved.get(row["pk"], 0)
        if row["num_in_stock"] != in_stock or (row["num_allocated"] or 0) != allocated:
            changed.append(
                {"id": row["pk"], "product_id": row["product_id"], "num_in_stock": in_stock, "num_allocated": allocated}
            )
    update_rows(StockRecord, changed, ["num_in_stock", "num_allocated"])
    stock_written(row["product_id"] for row in changed)
    if changed:
        sync_stock_alerts([row["pk"] for row in sales_rows])
    return len(changed)


def alerts_possible():
    """
    Whether any stock record has a low-stock threshold, without which no alert opens or
    closes: 1C sends none, a manager sets them in the dashboard. One look at a partial
    index; an import asks once a file (``OfferWriter``) instead of reading every batch's
    sales records, a read that waited for the batch's stock writes sent behind it
    (``bulk.WriteBehind``): 0.06 s of the 1.4–1.5 s of a package of 10,000 offers on the
    100k catalogue (in-process, six alternating pairs).
    """
    return StockRecord.objects.filter(low_stock_threshold__isnull=False).exists()


def sync_stock_alerts(stockrecord_ids):
    """
    Open / close Oscar's low-stock alerts for these records, set-based — what Oscar's
    ``update_stock_alerts`` post_save receiver does, which bulk updates bypass. Only
    records with a ``low_stock_threshold`` can have alerts.
    """
    records = StockRecord.objects.order_by().filter(
        pk__in_array=list(stockrecord_ids), low_stock_threshold__isnull=False
    )
    rows = list(records.values("pk", "num_in_stock", "num_allocated", "low_stock_threshold"))
    if not rows:
        return
    below = {
        row["pk"]: row["low_stock_threshold"]
        for row in rows
        if (row["num_in_stock"] or 0) - (row["num_allocated"] or 0) < row["low_stock_threshold"]
    }
    open_alerts = set(
        StockAlert.objects.filter(
            stockrecord_id__in=[row["pk"] for row in rows], status=StockAlert.OPEN
        ).values_list("stockrecord_id", flat=True)
    )
    StockAlert.objects.filter(stockrecord_id__in=open_alerts - set(below), status=StockAlert.OPEN).update(
        status=StockAlert.CLOSED, date_closed=timezone.now()
    )
    StockAlert.objects.bulk_create(
        [
            StockAlert(stockrecord_id=pk, threshold=threshold)
            for pk, threshold in below.items()
            if pk not in open_alerts
        ]
    )


def default_currency():
    return getattr(settings, "OSCAR_DEFAULT_CURRENCY", "") or ""
