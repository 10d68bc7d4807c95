"""checkauth, the session cookie and init, as 1C clients use them."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from integration_1c.models import ExchangeSession
from integration_1c.protocol import uploads

from .conftest import PASSWORD, OneC, basic, text

pytestmark = pytest.mark.django_db


def test_checkauth_answers_the_real_session_cookie_sessid_and_timestamp(exchange_user):
    client = OneC()
    before = int(time.time())
    lines = text(
        client.client.get(
            "/1c/exchange/?type=catalog&mode=checkauth",
            HTTP_AUTHORIZATION=basic("obmen"),
            HTTP_USER_AGENT="1C+Enterprise/8.3",
            REMOTE_ADDR="203.0.113.7",
        )
    ).split("\n")

    session = ExchangeSession.objects.get()
    assert lines[0] == "success"
    assert lines[1] == settings.SESSION_COOKIE_NAME
    assert Session.objects.filter(session_key=lines[2]).exists()
    assert lines[3] == f"sessid={session.token}"
    assert before <= int(lines[4].removeprefix("timestamp=")) <= int(time.time())
    assert len(lines) == 5
    assert (session.user, session.exchange_type, session.state) == (exchange_user, "catalog", "open")
    assert (session.remote_addr, session.user_agent) == ("203.0.113.7", "1C+Enterprise/8.3")


def test_the_cookie_alone_authenticates_later_calls(exchange_user):
    client = OneC()
    text(client.checkauth())
    fresh = OneC()  # no Basic header, no Set-Cookie: only what the body of checkauth said
    fresh.client.cookies[client.cookie[0]] = client.cookie[1]

    assert text(fresh.init()).startswith("zip=")


@pytest.mark.parametrize("header", ["REDIRECT_HTTP_AUTHORIZATION", "HTTP_X_AUTHORIZATION"])
def test_basic_credentials_passed_on_by_a_proxy_are_accepted(exchange_user, header):
    client = OneC()
    assert text(client.checkauth(header=header)).startswith("success\n")
    assert ExchangeSession.objects.filter(user=exchange_user).count() == 1


def test_wrong_password_fails_and_creates_nothing(exchange_user, settings):
    answer = text(OneC().checkauth(password="wrong"))

    assert answer.startswith("failure\n")
    assert "Неверный логин или пароль" in answer
    assert not ExchangeSession.objects.exists()
    assert not Session.objects.exists()
    assert uploads.list_folders("catalog") == []


def test_a_user_without_the_permission_gets_the_answer_of_a_wrong_password(django_user_model):
    """The exchange URL never tells whether a shopper's password is right."""
    django_user_model.objects.create_user("manager", "m@example.com", PASSWORD)

    right_password = text(OneC().checkauth(username="manager"))
    wrong_password = text(OneC().checkauth(username="manager", password="wrong"))
    no_such_user = text(OneC().checkauth(username="nobody"))

    assert right_password.startswith("failure\n")
    assert right_password == wrong_password == no_such_user
    assert "Can exchange data with 1C" in right_password  # the hint for the administrator
    assert not ExchangeSession.objects.exists()
    assert not Session.objects.exists()


def test_inactive_user_cannot_exchange(exchange_user):
    exchange_user.is_active = False
    exchange_user.save()

    assert text(OneC().checkauth()).startswith("failure\n")
    assert not ExchangeSession.objects.exists()


def test_superuser_may_exchange_without_an_explicit_permission(django_user_model):
    django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)

    assert text(OneC().checkauth(username="admin")).startswith("success\n")


def test_missing_credentials_fail_with_a_hint_about_the_header(db):
    answer = text(OneC().call("checkauth"))

    assert answer.startswith("failure\n")
    assert "Authorization" in answer


def test_calls_without_checkauth_fail_instead_of_redirecting_to_a_login_page(db):
    response = OneC().call("init")

    assert text(response).startswith("failure\n")
    assert "checkauth" in text(response)


def test_revoking_the_permission_stops_an_open_session(exchange_user):
    client = OneC()
    text(client.checkauth())
    exchange_user.user_permissions.clear()

    assert text(client.init()).startswith("failure\n")


def test_one_login_serves_both_types_each_with_a_session_of_its_own(exchange_user):
    client = OneC("sale")
    text(client.checkauth())
    sale_session = ExchangeSession.objects.get()
    client.exchange_type = "catalog"

    assert text(client.init()).startswith("zip=")
    assert text(client.call("file", body=b"<x/>", filename="import.xml")) == "success"

    catalogue_session = ExchangeSession.objects.exclude(pk=sale_session.pk).get()
    assert catalogue_session.exchange_type == "catalog" and catalogue_session.user == exchange_user
    assert catalogue_session.folder.startswith("catalog/") and not sale_session.folder
    client.exchange_type = "sale"
    assert text(client.init()).startswith("zip=")
    assert ExchangeSession.objects.count() == 2  # the sale calls keep theirs


def test_checkauth_twice_then_init_keeps_one_journal_row(exchange_user):
    first, second = OneC(), OneC()
    text(first.checkauth())
    text(second.checkauth())
    assert ExchangeSession.objects.count() == 2
    # Left unused for a minute: abandoned (a younger one may be another node's, see
    # test_protocol_concurrent_runs).
    ExchangeSession.objects.filter(token=first.sessid).update(last_seen_at=timezone.now() - timedelta(minutes=2))

    assert text(second.init()).startswith("zip=")

    assert list(ExchangeSession.objects.values_list("token", flat=True)) == [second.sessid]


def test_init_without_version_answers_two_lines(onec, settings):
    settings.ONEC_USE_ZIP = False
    settings.ONEC_FILE_LIMIT = 1000

    assert text(onec.init()) == "zip=no\nfile_limit=1000"


def test_init_with_version_adds_sessid_and_version(onec, settings):
    settings.ONEC_USE_ZIP = True
    settings.ONEC_FILE_LIMIT = 2048

    lines = text(onec.init(version="3.1")).split("\n")

    assert lines == ["zip=yes", "file_limit=2048", f"sessid={onec.sessid}", "version=3.1"]
    session = ExchangeSession.objects.get(token=onec.sessid)
    assert session.schema_version == "3.1"
    assert session.folder.startswith("catalog/") and session.folder.endswith(f"-{onec.sessid}")


def test_init_refuses_a_version_it_cannot_read(onec):
    answer = text(onec.init(version="3.1\nsuccess"))
    assert answer.startswith("failure\n")


def test_unknown_mode_and_type_fail_with_what_is_accepted(onec):
    answer = text(onec.call("dance"))
    assert answer.startswith("failure\n") and "mode=«dance»" in answer and "checkauth" in answer

    onec.exchange_type = "reference"
    answer = text(onec.call("init"))
    assert answer.startswith("failure\n") and "type=catalog" in answer and "type=sale" in answer


def test_the_bitrix_path_and_the_path_without_slash_serve_the_exchange(exchange_user):
    for path in ("/bitrix/admin/1c_exchange.php", "/1c/exchange"):
        client = OneC(path=path)
        assert text(client.checkauth()).startswith("success\n")
        assert text(client.init()).startswith("zip=")
        client.send("import.xml", b"<x/>")


def test_complete_closes_the_session(onec):
    assert text(onec.call("complete")) == "success"

    session = ExchangeSession.objects.get(token=onec.sessid)
    assert session.state == ExchangeSession.COMPLETE and session.finished_at is not None


def test_exchange_logins_expire_after_a_day_and_the_cleanup_clears_them(exchange_user):
    from integration_1c.protocol import pipeline
    from integration_1c.protocol.sessions import SESSION_LIFETIME

    client = OneC()
    text(client.checkauth())
    session = Session.objects.get(session_key=client.cookie[1])
    assert abs((session.expire_date - timezone.now()).total_seconds() - SESSION_LIFETIME) < 60

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    pipeline.cleanup()

    assert not Session.objects.exists()
