"""
Which exchange a call belongs to.

``checkauth`` logs 1C's user into a real Django session and creates an
:class:`~integration_1c.models.ExchangeSession`; its id is kept in the Django session.
1C then sends only the cookie, so every later call finds its exchange session through
the cookie alone. The cookie is the real session cookie (name and key), never a token
of our own: Django's session middleware recognises it on any web node.

One login serves every exchange type the user may use: a client that logs in with
``type=sale`` and goes on with ``type=catalog`` gets a catalogue exchange session of
its own, bound to the same cookie (the Django session keeps one id per type), so a
catalogue run and an orders run never share a session, a folder or a journal row.
A call may also carry HTTP Basic credentials instead of the cookie: it then continues
the user's latest open exchange of that type (or starts one).
"""

import ipaddress
import secrets
from datetime import timedelta

from django.contrib.auth import BACKEND_SESSION_KEY, login
from django.db import transaction
from django.utils import timezone

from integration_1c.models import ExchangeSession

from . import uploads
from .answers import ExchangeFailure
from .auth import basic_credentials, can_exchange, check_credentials

SESSION_KEY = "integration_1c_exchange_session"
#: 1C logs in again for every exchange (often every few minutes), so its Django
#: sessions expire after a day instead of the site's two weeks, and the cleanup task
#: removes them (:func:`integration_1c.protocol.pipeline.cleanup`).
SESSION_LIFETIME = 24 * 60 * 60
#: A call with Basic credentials and no cookie continues the user's exchange of that type
#: last seen within this time.
BASIC_CONTINUES = timedelta(minutes=10)


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
    # A repeated checkauth that carries only the cookie: the user came from the session,
    # so the backend that authenticated it is the one recorded there.
    backend = getattr(user, "backend", None) or request.session.get(BACKEND_SESSION_KEY)
    login(request, user, backend=backend)
    session = _open(request, user, exchange_type)
    request.session[SESSION_KEY] = {exchange_type: session.pk}
    request.session.set_expiry(SESSION_LIFETIME)
    if request.session.session_key is None:
        request.session.save()
    return session


def _open(request, user, exchange_type):
    return ExchangeSession.objects.create(
        exchange_type=exchange_type,
        user=user,
        token=secrets.token_hex(16),
        remote_addr=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
    )


def _ids(request):
    """The exchange session ids of this Django session, by type (an old int: catalogue or sale alike)."""
    value = request.session.get(SESSION_KEY)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, int):
        found = ExchangeSession.objects.filter(pk=value).values_list("exchange_type", flat=True).first()
        return {found: value} if found else {}
    return {}


def resolve(request, exchange_type):
    """
    The exchange session of this call, found through the session cookie (or the call's
    Basic credentials); raise :class:`ExchangeFailure` when there is none (1C must call
    checkauth first).
    """
    user = getattr(request, "user", None)
    if not can_exchange(user):
        credentials = basic_credentials(request.META)
        if credentials is None:
            raise ExchangeFailure(
                "Сеанс обмена не найден или истёк: выполните авторизацию (mode=checkauth)",
                "и передавайте полученную cookie в каждом следующем запросе.",
            )
        return _touch(_for_basic_call(request, check_credentials(request, *credentials), exchange_type))
    ids = _ids(request)
    session = None
    if ids.get(exchange_type):
        session = ExchangeSession.objects.filter(pk=ids[exchange_type], user=user).first()
    if session is None:
        if not ids:
            raise ExchangeFailure("Сеанс обмена не найден: выполните авторизацию (mode=checkauth).")
        # Logged in for another type (checkauth type=sale, then type=catalog): one login
        # serves every type the user may exchange, each type with a session of its own.
        session = _open(request, user, exchange_type)
        ids[exchange_type] = session.pk
        request.session[SESSION_KEY] = ids
    return _touch(session)


def _for_basic_call(request, user, exchange_type):
    """The user's latest open exchange of this type, recent enough to be this one; or a new one."""
    request.user = user
    session = (
        ExchangeSession.objects.filter(
            user=user,
            exchange_type=exchange_type,
            state=ExchangeSession.OPEN,
            last_seen_at__gte=timezone.now() - BASIC_CONTINUES,
        )
        .order_by("-started_at")
        .first()
    )
    return session or _open(request, user, exchange_type)


def _touch(session):
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
