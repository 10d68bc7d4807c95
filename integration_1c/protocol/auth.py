"""
Who may exchange with 1C: an active Django user with the permission
``integration_1c.exchange_1c`` (superusers have every permission), authenticated by
HTTP Basic in ``mode=checkauth`` (or with any later call instead of the cookie) and by
the session cookie afterwards.

Failed logins are throttled by django-axes, per user name and client address
(``AXES_FAILURE_LIMIT`` failures lock for ``AXES_COOLOFF_TIME``, even for the right
password); the lockouts are listed in the admin («Axes → Access attempts»), where
deleting one lifts it. A wrong password, an unknown user, an inactive user and a user
without the exchange permission get the same answer: the exchange URL must not tell
whether a shopper's password is right.
"""

import base64
import binascii

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed

from .answers import ExchangeFailure

PERMISSION = "integration_1c.exchange_1c"

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
            " («Axes → Access attempts»).",
        )
    user = authenticate(request, username=username, password=password)
    if user is None or not can_exchange(user):
        if user is not None:
            # The right password of a user who may not exchange: a failure like any other,
            # counted and answered the same.
            user_login_failed.send(sender=__name__, credentials=axes_credentials, request=request)
        raise ExchangeFailure(*REFUSED)
    return user


def _cooloff_minutes():
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff is None or callable(cooloff) or isinstance(cooloff, str):
        return None
    seconds = cooloff.total_seconds() if hasattr(cooloff, "total_seconds") else float(cooloff) * 3600
    return int(seconds // 60)
