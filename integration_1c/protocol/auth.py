"""
Who may exchange with 1C: an active Django user with the permission
``integration_1c.exchange_1c`` (superusers have every permission), authenticated by
HTTP Basic in ``mode=checkauth`` (or with any later call instead of the cookie) and by
the session cookie afterwards.

Failed logins are throttled by django-axes, per user name and client address
(``AXES_FAILURE_LIMIT`` failures lock for ``AXES_COOLOFF_TIME``, even for the right
password); the lockouts are listed in the admin («Блокировки входа»), where
deleting one lifts it. A wrong password, an unknown user, an inactive user and a user
without the exchange permission get the same answer: the exchange URL must not tell
whether a shopper's password is right.

A successful login is remembered for conf ``ONEC_LOGIN_CACHE_SECONDS``: 1C logs in twice
at the start of every exchange, every few minutes, and each check of the password costs
PBKDF2's million rounds (0.3–0.6 s of CPU) — more than a 100-offer package costs to
apply. The cache holds, under an HMAC of the user name and password made with
``SECRET_KEY`` (never the password, and nothing a reader of the cache can test
passwords against without the key), the user's id, the backend and an HMAC of the
stored password hash. Only the very same name and password find it; a password changed
since no longer matches the stored hash; activity and the exchange permission are read
from the database at every login, and the lockout is checked before the cache.
"""

import base64
import binascii
import logging

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

from integration_1c import conf

from .answers import ExchangeFailure

logger = logging.getLogger(__name__)

PERMISSION = "integration_1c.exchange_1c"
LOGIN_CACHE_PREFIX = "onec:login:"

#: Where the Basic header may arrive. Apache with PHP-style rewrites and some proxies
#: strip ``Authorization`` and pass it on under another name; REMOTE_USER is never
#: trusted (it would mean the web server authenticated someone, not that 1C did).
AUTHORIZATION_KEYS = (
    "HTTP_AUTHORIZATION",
    "REDIRECT_HTTP_AUTHORIZATION",
    "HTTP_X_AUTHORIZATION",
    "REDIRECT_REMOTE_USER",
)

REFUSED = (
    "Неверный логин или пароль, или у пользователя нет права обмена с 1С.",
    "Проверьте пользователя и пароль в настройках обмена с сайтом в 1С; право «Can exchange data with 1C»"
    " выдаётся в админке сайта.",
)


def basic_credentials(meta):
    """``(username, password)`` from the first Basic header found, or None."""
    for key in AUTHORIZATION_KEYS:
        value = (meta.get(key) or "").strip()
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            continue
        try:
            raw = base64.b64decode(encoded.strip(), validate=False)
        except (binascii.Error, ValueError):
            continue
        # 1C sends UTF-8; older Windows clients send a Cyrillic login in windows-1251.
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            decoded = raw.decode("cp1251", errors="replace")
        username, separator, password = decoded.partition(":")
        if separator:
            return username, password
    return None


def can_exchange(user):
    """True for an active user allowed to exchange (superusers included)."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


def authenticate_client(request):
    """
    The user of ``mode=checkauth``: its Basic credentials, or the exchange cookie of an
    earlier checkauth (a repeated checkauth). :class:`ExchangeFailure` otherwise.
    """
    credentials = basic_credentials(request.META)
    if credentials is None:
        if can_exchange(getattr(request, "user", None)):
            return request.user
        raise ExchangeFailure(
            "Нет логина и пароля: 1С должна передать их в заголовке HTTP Authorization (Basic).",
            "Если сайт стоит за прокси, настройте передачу заголовка Authorization.",
        )
    return check_credentials(request, *credentials)


def check_credentials(request, username, password):
    """The exchange user for these credentials, throttled; :class:`ExchangeFailure` otherwise."""
    axes_credentials = {settings.AXES_USERNAME_FORM_FIELD: username}
    if not AxesProxyHandler.is_allowed(request, axes_credentials):
        minutes = _cooloff_minutes()
        raise ExchangeFailure(
            f"Вход пользователя «{username}» с этого адреса заблокирован после"
            f" {settings.AXES_FAILURE_LIMIT} неудачных попыток"
            + (f" на {minutes} мин." if minutes else "."),
            "Проверьте пароль в настройках обмена 1С. Администратор может снять блокировку в админке сайта"
            " («Блокировки входа»).",
        )
    user = remembered_login(username, password)
    if user is not None:
        return user
    user = authenticate(request, username=username, password=password)
    if user is None or not can_exchange(user):
        if user is not None:
            # The right password of a user who may not exchange: a failure like any other,
            # counted and answered the same.
            user_login_failed.send(sender=__name__, credentials=axes_credentials, request=request)
        raise ExchangeFailure(*REFUSED)
    remember_login(user, username, password)
    return user


def _login_key(username, password):
    digest = salted_hmac("integration_1c.login", f"{username}\x00{password}", algorithm="sha256").hexdigest()
    return LOGIN_CACHE_PREFIX + digest


def _stored_hash_mark(user):
    """Changes whenever the user's password does (its stored hash, salt included)."""
    return salted_hmac("integration_1c.login-hash", f"{user.pk}\x00{user.password}", algorithm="sha256").hexdigest()


def _login_cache_seconds():
    try:
        return float(conf.get("ONEC_LOGIN_CACHE_SECONDS") or 0)
    except (TypeError, ValueError):
        return 0.0


def remember_login(user, username, password):
    """Remember a login that passed the password check (best effort: a cache that is down just forgets)."""
    seconds = _login_cache_seconds()
    backend = getattr(user, "backend", None)
    if seconds <= 0 or backend not in settings.AUTHENTICATION_BACKENDS:
        return
    entry = {"user": user.pk, "backend": backend, "hash": _stored_hash_mark(user)}
    try:
        cache.set(_login_key(username, password), entry, seconds)
    except Exception:  # noqa: BLE001 - the next login checks the password again
        logger.warning("1C exchange: could not remember a login in the cache", exc_info=True)


def remembered_login(username, password):
    """The exchange user of a login remembered by :func:`remember_login`, still valid; else None."""
    if _login_cache_seconds() <= 0:
        return None
    try:
        entry = cache.get(_login_key(username, password))
    except Exception:  # noqa: BLE001 - the password is checked instead
        return None
    if not isinstance(entry, dict) or entry.get("backend") not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = get_user_model()._default_manager.filter(pk=entry.get("user")).first()
    if user is None or not constant_time_compare(_stored_hash_mark(user), entry.get("hash") or ""):
        return None
    if not can_exchange(user):
        return None
    user.backend = entry["backend"]
    return user


def _cooloff_minutes():
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff is None or callable(cooloff) or isinstance(cooloff, str):
        return None
    seconds = cooloff.total_seconds() if hasattr(cooloff, "total_seconds") else float(cooloff) * 3600
    return int(seconds // 60)
