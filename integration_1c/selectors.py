"""
Reads of the 1C exchange: which orders 1C still has to receive, which orders an answer
held, what the shop's order statuses mean.

Writes live in ``integration_1c/services``; these functions only build querysets and
plain values, so views, admin, tasks and tests share one definition of "due".
"""

from collections import deque
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Max, Q
from oscar.core.loading import get_model

from . import conf
from .models import ExchangeSession, OrderExchange, OrderExportItem

Order = get_model("order", "Order")


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
