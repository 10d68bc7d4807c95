"""
1C logs in twice per exchange, every few minutes: a successful login is remembered
(conf ``ONEC_LOGIN_CACHE_SECONDS``) so that the password hasher runs once, not at every
checkauth — without ever letting in what the password check would refuse.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from integration_1c.models import ExchangeSession
from integration_1c.protocol import auth

from .conftest import PASSWORD, OneC, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password went through the hasher."""
    calls = []
    original = get_user_model().check_password

    def counting(user, raw_password):
        calls.append(raw_password)
        return original(user, raw_password)

    monkeypatch.setattr(get_user_model(), "check_password", counting)
    return calls


def test_the_second_login_of_an_exchange_does_not_check_the_password_again(exchange_user, password_checks):
    first, second = OneC(), OneC()
    assert text(first.checkauth()).startswith("success\n")
    assert text(second.checkauth()).startswith("success\n")

    assert len(password_checks) == 1
    assert second.cookie != first.cookie  # a real login each time: its own Django session
    assert ExchangeSession.objects.filter(user=exchange_user).count() == 2
    assert text(second.init()).startswith("zip=")


def test_a_wrong_password_is_always_checked_and_refused(exchange_user, password_checks):
    assert text(OneC().checkauth()).startswith("success\n")
    for _ in range(2):
        assert text(OneC().checkauth(password=PASSWORD + "x")).startswith("failure\n")
    assert len(password_checks) == 3


def test_a_changed_password_forgets_the_old_one(exchange_user, password_checks):
    assert text(OneC().checkauth()).startswith("success\n")
    exchange_user.set_password("a-new-password-7")
    exchange_user.save()

    assert text(OneC().checkauth()).startswith("failure\n")
    assert text(OneC().checkauth(password="a-new-password-7")).startswith("success\n")
    assert len(password_checks) == 3


def test_a_deactivated_user_or_a_revoked_permission_is_refused_at_once(exchange_user):
    assert text(OneC().checkauth()).startswith("success\n")
    exchange_user.user_permissions.clear()
    assert text(OneC().checkauth()).startswith("failure\n")

    exchange_user = get_user_model().objects.get(pk=exchange_user.pk)
    exchange_user.is_superuser = True
    exchange_user.save()
    assert text(OneC().checkauth()).startswith("success\n")
    exchange_user.is_active = False
    exchange_user.save()
    assert text(OneC().checkauth()).startswith("failure\n")


def test_a_locked_out_user_stays_locked_out_with_a_remembered_login(exchange_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    assert text(OneC().checkauth()).startswith("success\n")
    for n in range(3):
        text(OneC().checkauth(password=f"guess-{n}"))
    assert "заблокирован" in text(OneC().checkauth())


def test_without_the_cache_every_login_checks_the_password(exchange_user, password_checks, settings):
    settings.ONEC_LOGIN_CACHE_SECONDS = 0
    for _ in range(2):
        assert text(OneC().checkauth()).startswith("success\n")
    assert len(password_checks) == 2


def test_the_cache_holds_neither_the_password_nor_the_name(exchange_user, monkeypatch):
    stored = {}
    monkeypatch.setattr(cache, "set", lambda key, value, timeout=None: stored.update({key: value}))
    assert text(OneC().checkauth()).startswith("success\n")

    ((key, value),) = stored.items()
    assert key.startswith(auth.LOGIN_CACHE_PREFIX)
    assert PASSWORD not in key and "obmen" not in key
    assert PASSWORD not in repr(value) and exchange_user.password not in repr(value)
    assert value["user"] == exchange_user.pk


def test_a_cache_that_is_down_means_checking_the_password(exchange_user, password_checks, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    for _ in range(2):
        assert text(OneC().checkauth()).startswith("success\n")
    assert len(password_checks) == 2
