"""
Who may exchange with 1C: an active Django user with the permission
``integration_1c.exchange_1c`` (superusers have every permission), authenticated by
HTTP Basic in ``mode=checkauth`` and by the session cookie afterwards.
"""

import base64
import binascii

from django.contrib.auth import authenticate

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
    The user of ``mode=checkauth``'s Basic credentials, or :class:`ExchangeFailure`
    with a reason 1C's operator can act on. Nothing is written on failure.
    """
    credentials = basic_credentials(request.META)
    if credentials is None:
        if can_exchange(getattr(request, "user", None)):
            # Already logged in through a session cookie (e.g. a repeated checkauth).
            return request.user
        raise ExchangeFailure(
            "Нет логина и пароля: 1С должна передать их в заголовке HTTP Authorization (Basic).",
            "Если сайт стоит за прокси, настройте передачу заголовка Authorization.",
        )
    username, password = credentials
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise ExchangeFailure(
            f"Неверный логин или пароль пользователя «{username}», или пользователь отключён.",
            "Проверьте настройки обмена с сайтом в 1С.",
        )
    if not can_exchange(user):
        raise ExchangeFailure(
            f"У пользователя «{username}» нет права обмена с 1С.",
            "Выдайте ему право «integration_1c | Can exchange data with 1C» в админке сайта.",
        )
    return user
