"""
PostgreSQL down: every exchange call, with or without a cookie, answers a text failure
with no host, port, driver or exception text — against gunicorn with a database URL
that refuses, as production would see it.
"""

import base64
import http.client
from urllib.parse import urlsplit

import pytest

from tests.conftest import EXCHANGE_PASSWORD

pytestmark = pytest.mark.django_db

LEAKS = ("127.0.0.1", "5432", ":1", "port", "psycopg", "OperationalError", "connection", "Traceback", "<html", "<!DOCTYPE")


def call(base, query, *, method="GET", body=None, headers=None):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(method, f"/1c/exchange?{query}", body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type"), response.read().decode("utf-8", "replace")


CALLS = [
    ("GET", "type=catalog&mode=checkauth", None, {"Authorization": "Basic " + base64.b64encode(f"obmen:{EXCHANGE_PASSWORD}".encode()).decode()}),
    ("GET", "type=catalog&mode=checkauth", None, {}),
    ("GET", "type=catalog&mode=init", None, {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
    ("POST", "type=catalog&mode=file&filename=import.xml", b"<x/>", {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
    ("GET", "type=catalog&mode=import&filename=import.xml", None, {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
    ("GET", "type=sale&mode=query", None, {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
    ("GET", "type=sale&mode=checkauth", None, {"Authorization": "Basic b2JtZW46eA==", "Cookie": "sessionid=x"}),
]


def test_every_exchange_call_answers_a_clean_text_failure_when_the_database_refuses(start_web, settings, case):
    web = start_web(DATABASE_URL="postgres://postgres@127.0.0.1:1/shop", CELERY_TASK_ALWAYS_EAGER="false")
    with case.unchanged():
        for method, query, body, headers in CALLS:
            status, content_type, answer = call(web.url, query, method=method, body=body, headers=headers)
            assert status == 200, (query, status, answer[:300])
            assert content_type == "text/plain; charset=utf-8", (query, content_type)
            assert answer.startswith("failure\n"), (query, answer[:300])
            if headers:  # a call with nothing to check needs no database and says what is missing
                assert "База данных сайта недоступна" in answer, (query, answer)
            assert not [leak for leak in LEAKS if leak in answer], (query, answer)
    # The details are in the log, under the incident number 1C was given.
    incident = answer.rsplit("номер ошибки ", 1)[1].strip(" .\n")
    assert incident in web.output() and "OperationalError" in web.output()


def test_an_error_page_of_any_middleware_becomes_a_text_failure(settings, monkeypatch, case):
    """Even Oscar's own basket middleware (which loads the session) failing gives text, not HTML."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError
    from django.test import Client

    settings.MIDDLEWARE = [
        "oscar.apps.basket.middleware.BasketMiddleware" if name.endswith("BasketMiddleware") else name
        for name in settings.MIDDLEWARE
    ]

    def database_gone(self):
        raise OperationalError('connection to server at "10.0.0.5", port 5432 failed: Connection refused')

    with case.unchanged():
        monkeypatch.setattr(SessionStore, "load", database_gone)
        client = Client(raise_request_exception=False)  # as a real server: no re-raise
        client.cookies["sessionid"] = "abcdefghijklmnopqrstuvwxyz012345"
        response = client.get("/1c/exchange/?type=catalog&mode=init")
        monkeypatch.undo()
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert body.startswith("failure\nБаза данных сайта недоступна"), body
    assert "10.0.0.5" not in body and "5432" not in body and "OperationalError" not in body
