"""Exchange logins: throttled by django-axes, one answer for every refusal, one login for any type."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from integration_1c.models import ExchangeSession
from tests.conftest import EXCHANGE_PASSWORD
from tests.protocol.conftest import OneC, _fast_password_hashing, basic, text  # noqa: F401

pytestmark = pytest.mark.django_db


def test_ten_failures_lock_the_user_at_that_address_even_for_the_right_password(exchange_user, settings, case):
    settings.AXES_FAILURE_LIMIT = 10
    with case.unchanged():
        answers = [text(OneC().checkauth(password=f"guess-{n}")) for n in range(10)]
        assert all(answer.startswith("failure\n") and "Неверный логин" in answer for answer in answers)
        locked = text(OneC().checkauth())  # the right password, straight after
        assert locked.startswith("failure\n") and "заблокирован" in locked and "15 мин" in locked
        assert not ExchangeSession.objects.exists()
        # Another address is not locked out by this one.
        other = OneC()
        other.client.defaults["REMOTE_ADDR"] = "10.1.2.3"
        assert text(other.checkauth()).startswith("success\n")
    attempt = AccessAttempt.objects.get(username="obmen", ip_address="127.0.0.1")
    assert attempt.failures_since_start >= 10


def test_lockouts_show_in_the_admin_and_an_administrator_lifts_one(exchange_user, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        text(OneC().checkauth(password=f"guess-{n}"))
    assert "заблокирован" in text(OneC().checkauth())

    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "boss-password-1")
    browser = Client()
    browser.force_login(admin)
    listing = browser.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "obmen" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="obmen")
    response = browser.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert text(OneC().checkauth()).startswith("success\n")


def test_a_shoppers_right_password_counts_as_a_failure_and_says_nothing(django_user_model, settings, case):
    settings.AXES_FAILURE_LIMIT = 2
    django_user_model.objects.create_user("shopper", "s@example.com", EXCHANGE_PASSWORD)
    with case.unchanged():
        right = text(OneC().checkauth(username="shopper"))
        wrong = text(OneC().checkauth(username="shopper", password="nope"))
        assert right == wrong and right.startswith("failure\n")
        assert "заблокирован" in text(OneC().checkauth(username="shopper"))


def test_a_repeated_checkauth_with_only_the_cookie_succeeds(exchange_user):
    client = OneC()
    assert text(client.checkauth()).startswith("success\n")
    answer = text(client.call("checkauth"))  # the cookie only, no Basic header
    assert answer.startswith("success\n"), answer
    lines = answer.split("\n")
    client.client.cookies[lines[1]] = lines[2]
    assert text(client.init()).startswith("zip=")


def test_basic_credentials_with_any_call_instead_of_the_cookie(exchange_user, settings):
    headers = {"HTTP_AUTHORIZATION": basic("obmen")}
    client = OneC()  # never keeps a cookie
    for call in (
        lambda: client.call("init", extra=headers),
        lambda: client.call("file", body=b"<x/>", filename="import.xml", extra=headers),
    ):
        client.client.cookies.clear()
        assert text(call()).startswith(("zip=", "success")), text(call())
    session = ExchangeSession.objects.get()
    assert session.files.get().name == "import.xml"  # both calls are one exchange
    client.client.cookies.clear()
    refused = text(client.call("init", extra={"HTTP_AUTHORIZATION": basic("obmen", "wrong")}))
    assert refused.startswith("failure\n") and "Неверный логин" in refused


def test_a_user_may_exchange_only_the_types_of_a_user_with_the_permission(exchange_user):
    client = OneC("sale")
    text(client.checkauth())
    exchange_user.user_permissions.remove(Permission.objects.get(codename="exchange_1c"))
    client.exchange_type = "catalog"
    assert text(client.init()).startswith("failure\n")
