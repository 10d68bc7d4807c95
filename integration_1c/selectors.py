"""
Reads of the 1C exchange: which orders 1C still has to receive, which orders an answer
held, what the shop's order statuses mean.

Writes live in ``integration_1c/services``; these functions only build querysets and
plain values, so views, admin, tasks and tests share one definition of "due".
"""

import json
import re
import time
from collections import deque
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Max, Q
from django.utils import timezone
from oscar.core.loading import get_model

from . import conf
from .models import ExchangeFile, ExchangeSession, OrderExchange, OrderExportItem
from .services.bulk import array_literal

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")



def live_key(file_id):
    """The cache key of a running import's figures (written by ``services.journal.ImportProgress``)."""
    return f"onec:live:{file_id}"


def normalize_status(name):
    """Status names compared the way people type them: case and ё/е do not matter."""
    return (name or "").strip().lower().replace("ё", "е")


def pipeline():
    return getattr(settings, "OSCAR_ORDER_STATUS_PIPELINE", {}) or {}


def find_status(name):
    """The pipeline's own spelling of ``name`` ("Подтвержден" -> "Подтверждён"), or None."""
    wanted = normalize_status(name)
    if not wanted:
        return None
    for status in pipeline():
        if normalize_status(status) == wanted:
            return status
    return None


def statuses_from(status):
    """
    ``status`` and every status reachable from it in the pipeline: "that status or
    later". Empty when the status is not in the pipeline.
    """
    start = find_status(status)
    if start is None:
        return set()
    graph, seen, queue = pipeline(), {start}, deque([start])
    while queue:
        for following in graph.get(queue.popleft(), ()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen


def initial_status():
    return getattr(settings, "OSCAR_INITIAL_ORDER_STATUS", "") or ""


def cancelled_status():
    """
    The shop's "cancelled" status: ``ONEC_ORDER_CANCELLED_STATUS`` when a shop sets it,
    else the final pipeline status whose name starts with "Отмен" / "Cancel".
    """
    configured = find_status(getattr(settings, "ONEC_ORDER_CANCELLED_STATUS", ""))
    if configured:
        return configured
    for status, following in pipeline().items():
        name = normalize_status(status)
        if not following and name.startswith(("отмен", "cancel")):
            return status
    return None


def is_final_status(status):
    graph = pipeline()
    return status in graph and not graph[status]


def orders_due_for_export():
    """
    Orders 1C has not acknowledged at their current version, oldest first.

    An order without an :class:`OrderExchange` row yet (placed a moment ago, before the
    ``order_placed`` receiver ran) is due too: nothing placed is ever skipped. With
    ``ONEC_ORDER_EXPORT_FROM_STATUS`` set, only orders at that status or later in the
    pipeline go out (the call centre confirms an order first).
    """
    orders = Order.objects.filter(Q(onec__isnull=True) | Q(onec__acknowledged_version__lt=F("onec__version")))
    from_status = conf.get("ONEC_ORDER_EXPORT_FROM_STATUS")
    if from_status:
        orders = orders.filter(status__in=statuses_from(from_status) or [from_status])
    return orders.order_by("date_placed", "pk")


def exchanges_due_for_export():
    """The :class:`OrderExchange` rows of :func:`orders_due_for_export`, by pk (lock order)."""
    return OrderExchange.objects.filter(
        order__in=orders_due_for_export().values("pk"), acknowledged_version__lt=F("version")
    ).order_by("pk")


def last_query_items(session):
    """
    The :class:`OrderExportItem` rows of the last ``mode=query`` answer of ``session``
    (one answer = one ``sent_at``), or an empty queryset.
    """
    last_sent = OrderExportItem.objects.filter(session=session).aggregate(last=Max("sent_at"))["last"]
    if last_sent is None:
        return OrderExportItem.objects.none()
    return OrderExportItem.objects.filter(session=session, sent_at=last_sent)


def recent_unacknowledged_query_items(session, since):
    """
    The latest query answered to the same user in another orders session since
    ``since``, if nothing acknowledged it yet: 1C sometimes sends ``mode=success`` after
    a fresh ``checkauth``, i.e. in a new session.
    """
    items = OrderExportItem.objects.filter(
        session__exchange_type=ExchangeSession.SALE,
        session__user_id=session.user_id,
        sent_at__gte=since,
    ).exclude(session=session)
    latest = items.order_by("-sent_at", "-pk").values("session_id", "sent_at").first()
    if latest is None:
        return OrderExportItem.objects.none()
    answer = OrderExportItem.objects.filter(session_id=latest["session_id"], sent_at=latest["sent_at"])
    if answer.filter(acknowledged_at__isnull=False).exists():
        return OrderExportItem.objects.none()
    return answer


def orders_for_document(order_ids):
    """Orders with everything the order document reads, in as few queries as possible."""
    return (
        Order.objects.filter(pk__in=order_ids)
        .select_related("user", "shipping_address__country", "billing_address__country", "site", "onec")
        .prefetch_related("lines__product", "sources__source_type", "status_changes", "notes")
        .order_by("date_placed", "pk")
    )


def status_change_date(order):
    """When the order got its current status (its placement when it never changed)."""
    changes = [change.date_created for change in order.status_changes.all()]
    return max(changes) if changes else order.date_placed


def order_exchange(order):
    """The order's 1C state, or None when 1C has not been involved yet."""
    return OrderExchange.objects.filter(order=order).first()


#: Sessions of one exchange run follow each other within this gap (see :func:`run_started_at`).
RUN_GAP = timedelta(minutes=2)


def run_started_at(session, limit=1000):
    """
    When the exchange run that ``session`` belongs to started: the one notion of "a
    run" for full packages (what they list counts from here) and for
    ``mode=deactivate``.

    Clients start a fresh checkauth for every file and send ``mode=deactivate`` with
    the timestamp of their LAST checkauth; a full catalogue sent as several files comes
    in several sessions. A run is a chain of sessions of the same user and type, each
    starting at most :data:`RUN_GAP` after the previous one's last call; scheduled
    exchanges are minutes apart and stay separate runs. Catalogue and sale runs never
    join, so one never takes the other's session.
    """
    if session is None:
        return None
    start = session
    for _ in range(limit):
        previous = (
            ExchangeSession.objects.filter(
                user_id=session.user_id,
                exchange_type=session.exchange_type,
                started_at__lt=start.started_at,
                last_seen_at__gte=start.started_at - RUN_GAP,
            )
            .order_by("-started_at")
            .only("pk", "started_at")
            .first()
        )
        if previous is None:
            break
        start = previous
    return start.started_at


# --- the exchange journal (admin and dashboard) ----------------------------------------


def file_progress(exchange_file):
    """
    How far the import of ``exchange_file`` got, for the journal page and its JSON:
    records applied, share of the file read (0..1, None when unknown), records per
    second, seconds left (None when not yet known). Live figures come from the cache the
    worker writes (``services.journal.ImportProgress``), stored counts otherwise.
    """
    figures = {
        "processed": exchange_file.processed,
        "share": None,
        "rate": None,
        "seconds_left": None,
        "elapsed": None,
    }
    if exchange_file.state == ExchangeFile.DONE:
        figures["share"] = 1.0
    if exchange_file.started_at and exchange_file.finished_at:
        figures["elapsed"] = max((exchange_file.finished_at - exchange_file.started_at).total_seconds(), 0)
    if exchange_file.state != ExchangeFile.RUNNING:
        if figures["elapsed"] and exchange_file.processed:
            figures["rate"] = exchange_file.processed / max(figures["elapsed"], 0.001)
        return figures
    live = cache.get(live_key(exchange_file.pk)) or {}
    processed = int(live.get("processed") or exchange_file.processed or 0)
    size = int(live.get("size") or exchange_file.size or 0)
    read = int(live.get("bytes_read") or 0)
    started = live.get("started")
    elapsed = max(time.time() - started, 0.001) if started else None
    figures.update(processed=processed, elapsed=elapsed)
    if size and read:
        share = min(read / size, 1.0)
        figures["share"] = share
        if elapsed and share >= 0.01:
            figures["seconds_left"] = max(elapsed * (1 - share) / share, 0)
    if elapsed and processed:
        figures["rate"] = processed / elapsed
    return figures


def file_products(exchange_file, change):
    """
    The products an applied file created, updated or hid (``change``), as a queryset of
    Oscar products (parents and standalone ones; a variant counts for its parent).

    Imports run one at a time (an advisory lock), so what a file wrote is what carries
    its import's time window: created = ``date_created`` in it, updated = ``date_updated``
    in it on a product that existed before; hidden = those the full package hid for not
    listing them (their ids are kept on the file) and those 1C marked for deletion in it.
    """
    start, end = exchange_file.started_at, exchange_file.finished_at
    if start is None or end is None:
        return Product.objects.none()
    written = Q(date_updated__gte=start, date_updated__lte=end)
    if change == "created":
        own = Q(date_created__gte=start, date_created__lte=end)
    elif change == "updated":
        own = written & Q(date_created__lt=start)
    elif change == "hidden":
        own = Q(pk__in=list(exchange_file.hidden_products or [])) | (written & Q(is_public=False))
    else:
        return Product.objects.none()
    if change == "updated" and exchange_file.kind in ("offers", "offers_changes"):
        # An offers file writes prices and stock, not the product rows.
        own = (
            Q(onec_prices__date_updated__gte=start, onec_prices__date_updated__lte=end)
            | Q(stockrecords__date_updated__gte=start, stockrecords__date_updated__lte=end)
        ) & Q(date_created__lt=start)
    products = Product.objects.filter(code__isnull=False).filter(own)
    parents = products.filter(parent__isnull=False).values("parent_id")
    return Product.objects.filter(parent__isnull=True).filter(
        Q(pk__in=products.filter(parent__isnull=True).values("pk")) | Q(pk__in=parents)
    )


#: Parts of a warning that differ between warnings of one kind: quoted names, ids, numbers.
_WARNING_DETAILS = (
    (r"«[^»]*»", "«…»"),
    (r"\"[^\"]*\"", "«…»"),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(#[0-9a-f-]+)?\b", "…"),
    (r"\d+", "N"),
)


def grouped_warnings(warnings, examples=3):
    """
    Warnings grouped by kind, biggest group first: ``[{"kind", "count", "examples"}]``.
    A warning's kind is its text without the file name and the details (names, Ид,
    numbers), so 5,000 «unknown property» warnings are one line with three examples.
    """
    groups = {}
    for warning in warnings or []:
        text = str(warning)
        body = text.split(": ", 1)[1] if re.match(r"^[^\s:]+\.(xml|zip): ", text) else text
        kind = body
        for pattern, replacement in _WARNING_DETAILS:
            kind = re.sub(pattern, replacement, kind)
        group = groups.setdefault(kind, {"kind": kind, "count": 0, "examples": []})
        group["count"] += 1
        if len(group["examples"]) < examples:
            group["examples"].append(body)
    return sorted(groups.values(), key=lambda group: -group["count"])


def exchange_health(now=None):
    """
    For the dashboard home: the last exchange, the last one that succeeded, and whether
    that is longer ago than conf ``ONEC_EXCHANGE_EXPECTED_HOURS`` (``overdue``).
    """
    now = now or timezone.now()
    expected = timedelta(hours=float(conf.get("ONEC_EXCHANGE_EXPECTED_HOURS")))
    last = ExchangeSession.objects.order_by("-started_at").first()
    last_success = (
        ExchangeSession.objects.filter(state=ExchangeSession.COMPLETE).order_by("-finished_at", "-started_at").first()
    )
    success_at = (last_success.finished_at or last_success.started_at) if last_success else None
    return {
        "last": last,
        "last_success": last_success,
        "last_success_at": success_at,
        "expected_hours": conf.get("ONEC_EXCHANGE_EXPECTED_HOURS"),
        "overdue": success_at is None or now - success_at > expected,
    }


def product_counts():
    """Products (standalone and parents, what a shopper sees as one product) and variants, apart."""
    products = Product.objects.filter(parent__isnull=True)
    variants = Product.objects.filter(parent__isnull=False)
    return {
        "products": products.count(),
        "public_products": products.filter(is_public=True).count(),
        "variants": variants.count(),
    }


def order_1c_states():
    """The 1C states the dashboard's order list filters by, as ``(value, Q on Order)``."""
    acknowledged = Q(onec__acknowledged_version__gte=F("onec__version"))
    return {
        "waiting": Q(onec__isnull=True) | Q(onec__first_sent_at__isnull=True),
        "sent": Q(onec__first_sent_at__isnull=False) & ~acknowledged,
        "acknowledged": Q(onec__isnull=False) & acknowledged,
    }


def session_archives(session_id):
    """``(id, name)`` of the session's unpacked archives, oldest first: where its packed pictures are."""
    from .protocol.pipeline import ARCHIVE

    return list(
        ExchangeFile.objects.filter(session_id=session_id, kind=ARCHIVE, state=ExchangeFile.DONE)
        .order_by("pk")
        .values_list("pk", "name")
    )


def session_has_attachment_rows(session_id):
    """Whether pictures (or other attachments) were sent in the session as files of their own."""
    from .protocol.pipeline import ATTACHMENT

    return ExchangeFile.objects.filter(session_id=session_id, kind=ATTACHMENT).exists()


def session_files_named(session_id, names):
    """
    ``(id, name, packed)`` of the session's uploaded files of these names, oldest first
    (``packed`` decoded). On PostgreSQL each name is looked up in the (session, name)
    index: an archive's members are registered a batch at a time, so a session's 118,000
    members are not in the table's statistics yet while it is unpacked and imported, and
    for a session thought to hold a row or two PostgreSQL read all its rows and filtered
    them by name — for every batch (57 ms against 12 for a batch of pictures).
    """
    names = list(names)
    if connection.vendor != "postgresql":
        return list(
            ExchangeFile.objects.filter(session_id=session_id, name__in=names)
            .order_by("pk")
            .values_list("pk", "name", "packed")
        )
    table = connection.ops.quote_name(ExchangeFile._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.id, f.name, f.packed FROM unnest(%s::text[]) AS wanted(name) "
            f"CROSS JOIN LATERAL (SELECT f.id, f.name, f.packed FROM {table} f "
            f"WHERE f.session_id = %s AND f.name = wanted.name OFFSET 0) f ORDER BY f.id",
            # The names as one array literal joined in C: psycopg escapes a list's
            # texts one by one in Python (0.1 s of the pictures of 10,000 products).
            [array_literal(names), session_id],
        )
        rows = cursor.fetchall()
    # The driver hands JSON columns to Django as text, for the field to decode.
    return [
        (pk, name, json.loads(packed) if isinstance(packed, str) else packed) for pk, name, packed in rows
    ]
