"""
Which exchange a call belongs to.

``checkauth`` logs 1C's user into a real Django session and creates an
:class:`~integration_1c.models.ExchangeSession`; its id is kept in the Django session.
1C then sends only the cookie, so every later call finds its exchange session through
the cookie alone. The cookie is the real session cookie (name and key), never a token
of our own: Django's session middleware recognises it on any web node.
"""

import ipaddress
import secrets
from datetime import timedelta

from django.contrib.auth import login
from django.db import transaction
from django.utils import timezone

from integration_1c.models import ExchangeSession

from . import uploads
from .answers import ExchangeFailure
from .auth import can_exchange

SESSION_KEY = "integration_1c_exchange_session"
#: 1C logs in again for every exchange (often every few minutes), so its Django
#: sessions expire after a day instead of the site's two weeks, and the cleanup task
#: removes them (:func:`integration_1c.protocol.pipeline.cleanup`).
SESSION_LIFETIME = 24 * 60 * 60
#: Sessions of one exchange run follow each other within this gap (see :func:`run_started_at`).
RUN_GAP = timedelta(minutes=2)


def client_address(request):
    """
    The client's address for the journal. ``X-Forwarded-For`` is believed only when the
    request came from a private or loopback address (our own proxy); a client on the
    internet could write anything there. The journal is for reading, not for security.
    """
    remote = _ip(request.META.get("REMOTE_ADDR"))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote is not None and (remote.is_private or remote.is_loopback) and forwarded:
        first = _ip(forwarded.split(",")[0].strip())
        if first is not None:
            return str(first)
    return str(remote) if remote is not None else None


def _ip(value):
    try:
        return ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None


def start(request, user, exchange_type):
    """Log ``user`` in and open a new exchange session of ``exchange_type``."""
    login(request, user)
    session = ExchangeSession.objects.create(
        exchange_type=exchange_type,
        user=user,
        token=secrets.token_hex(16),
        remote_addr=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
    )
    request.session[SESSION_KEY] = session.pk
    request.session.set_expiry(SESSION_LIFETIME)
    if request.session.session_key is None:
        request.session.save()
    return session


def resolve(request, exchange_type):
    """
    The exchange session of this call, found through the session cookie; raise
    :class:`ExchangeFailure` when there is none (1C must call checkauth first).
    """
    if not can_exchange(getattr(request, "user", None)):
        raise ExchangeFailure(
            "Сеанс обмена не найден или истёк: выполните авторизацию (mode=checkauth)",
            "и передавайте полученную cookie в каждом следующем запросе.",
        )
    session_id = request.session.get(SESSION_KEY)
    session = ExchangeSession.objects.filter(pk=session_id, user=request.user).first() if session_id else None
    if session is None:
        raise ExchangeFailure("Сеанс обмена не найден: выполните авторизацию (mode=checkauth).")
    if session.exchange_type != exchange_type:
        raise ExchangeFailure(
            f"Сеанс обмена начат для type={session.exchange_type}, а запрос пришёл с type={exchange_type}:"
            " выполните checkauth для этого типа обмена."
        )
    now = timezone.now()
    ExchangeSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    session.last_seen_at = now
    return session


def ensure_folder(session):
    """Give ``session`` its upload folder unless it has one; return the folder name."""
    if session.folder:
        return session.folder
    with transaction.atomic():
        locked = ExchangeSession.objects.select_for_update().get(pk=session.pk)
        if not locked.folder:
            locked.folder = uploads.new_folder_name(locked.exchange_type, locked.token, locked.started_at)
            locked.save(update_fields=["folder"])
    session.folder = locked.folder
    return session.folder


def note(session, mode, message):
    """Keep a failure in the session's journal messages (the last 200)."""
    entry = {"at": timezone.now().isoformat(timespec="seconds"), "mode": mode, "message": message}
    with transaction.atomic():
        locked = ExchangeSession.objects.select_for_update().filter(pk=session.pk).first()
        if locked is None:
            return
        locked.messages = (list(locked.messages or []) + [entry])[-200:]
        locked.save(update_fields=["messages"])


def run_started_at(session, limit=1000):
    """
    When the exchange run that ``session`` belongs to started.

    Clients that start a fresh checkauth for every file send ``mode=deactivate`` with
    the timestamp of their LAST checkauth: whatever the earlier cycles of the same run
    imported would look untouched and be hidden. A run is a chain of sessions of the
    same user and type, each starting at most :data:`RUN_GAP` after the previous one's
    last call; scheduled exchanges are minutes apart and stay separate runs.
    """
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
            .first()
        )
        if previous is None:
            break
        start = previous
    return start.started_at
