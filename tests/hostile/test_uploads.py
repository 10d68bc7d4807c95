"""Uploads that are too big, cut, chunked without a length, or meet a full disk."""

import base64
import errno
import http.client
import io
import shutil
import socket
import time
from urllib.parse import urlsplit

import pytest

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.protocol import uploads
from tests.conftest import EXCHANGE_PASSWORD
from tests.protocol.conftest import OneC, _fast_password_hashing, text  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def onec(exchange_user, settings):
    settings.ONEC_FILE_LIMIT = 1000
    settings.ONEC_FILE_LIMIT_MARGIN = 10
    client = OneC()
    assert text(client.checkauth()).startswith("success")
    assert text(client.init()).startswith("zip=")
    return client


def folder_of(client):
    return uploads.UploadFolder(ExchangeSession.objects.get(token=client.sessid).folder)


def stored(client, name):
    folder = folder_of(client)
    if not folder.exists(name):
        return None
    with folder.open(name) as handle:
        return handle.read()


def test_a_post_bigger_than_the_announced_file_limit_is_refused(onec, case):
    with case.unchanged():
        answer = text(onec.call("file", body=b"x" * 1011, filename="import.xml"))
        assert answer.startswith("failure\n") and "file_limit" in answer
        # 2 GB announced: refused from the header, before a byte is read.
        huge = text(onec.call("file", body=b"x", filename="offers.xml", extra={"CONTENT_LENGTH": str(2 * 1024**3)}))
        assert huge.startswith("failure\n")
    assert stored(onec, "import.xml") is None and stored(onec, "offers.xml") is None
    assert not ExchangeFile.objects.exists()
    assert text(onec.call("file", body=b"x" * 1010, filename="import.xml")) == "success"  # within the margin


def test_per_file_and_per_run_caps(onec, settings, case):
    settings.ONEC_MAX_FILE_SIZE = 2500
    settings.ONEC_MAX_SESSION_UPLOAD = 4000
    with case.unchanged():
        for _ in range(2):
            assert text(onec.call("file", body=b"a" * 1000, filename="import.xml")) == "success"
        assert text(onec.call("file", body=b"a" * 500, filename="import.xml")) == "success"
        answer = text(onec.call("file", body=b"a" * 10, filename="import.xml"))
        assert answer.startswith("failure\n") and "ONEC_MAX_FILE_SIZE" in answer
        assert text(onec.call("file", body=b"b" * 1000, filename="offers.xml")) == "success"
        answer = text(onec.call("file", body=b"b" * 1000, filename="offers.xml"))
        assert answer.startswith("failure\n"), answer
    assert len(stored(onec, "import.xml")) == 2500
    assert len(stored(onec, "offers.xml")) == 1000  # the run had 500 bytes left: the chunk is refused whole


def test_a_full_disk_gives_failure_and_keeps_nothing_of_the_chunk(onec, monkeypatch, case):
    assert text(onec.call("file", body=b"1" * 1000, filename="import.xml")) == "success"
    real_copy = uploads._copy

    def copy_until_the_disk_is_full(source, target):
        target.write(source.read(300))
        raise OSError(errno.ENOSPC, "No space left on device")

    with case.unchanged():
        monkeypatch.setattr(uploads, "_copy", copy_until_the_disk_is_full)
        answer = text(onec.call("file", body=b"2" * 1000, filename="import.xml"))
        assert answer.startswith("failure\n") and "закончилось место" in answer
        assert "No space" not in answer
        monkeypatch.setattr(uploads, "_copy", real_copy)
        assert stored(onec, "import.xml") == b"1" * 1000  # the broken chunk left nothing

        usage = shutil.disk_usage("/")
        monkeypatch.setattr(uploads.shutil, "disk_usage", lambda path: usage._replace(free=1000))
        answer = text(onec.call("file", body=b"2" * 1000, filename="import.xml"))
        assert answer.startswith("failure\n") and "закончилось место" in answer
    monkeypatch.undo()
    assert text(onec.call("file", body=b"2" * 10, filename="import.xml")) == "success"
    assert stored(onec, "import.xml") == b"1" * 1000 + b"2" * 10


def test_a_chunk_cut_short_leaves_nothing_and_the_resent_chunk_is_whole(onec, case):
    assert text(onec.call("file", body=b"1" * 1000, filename="import.xml")) == "success"
    with case.unchanged():
        answer = text(onec.call("file", body=b"2" * 400, filename="import.xml", extra={"CONTENT_LENGTH": "900"}))
        assert answer.startswith("failure\n") and "не полностью" in answer
    assert stored(onec, "import.xml") == b"1" * 1000
    assert text(onec.call("file", body=b"2" * 900, filename="import.xml")) == "success"
    assert stored(onec, "import.xml") == b"1" * 1000 + b"2" * 900
    assert ExchangeFile.objects.get().size == 1900


def test_chunked_transfer_is_stored_whole_or_refused(onec, case):
    with case.unchanged():
        # A server that cannot say where a chunked body ends: refused, nothing stored.
        answer = text(onec.call("file", body=b"", filename="import.xml", extra={"HTTP_TRANSFER_ENCODING": "chunked"}))
        assert answer.startswith("failure\n") and "chunked" in answer
        assert stored(onec, "import.xml") is None
        extra = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": io.BytesIO(b"<x>" * 100)}
        assert text(onec.call("file", body=b"", filename="import.xml", extra=extra)) == "success"
    assert stored(onec, "import.xml") == b"<x>" * 100
    extra = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": io.BytesIO(b"y" * 1011)}
    assert text(onec.call("file", body=b"", filename="offers.xml", extra=extra)).startswith("failure\n")
    assert stored(onec, "offers.xml") is None


def web_password(user):
    """The web process checks passwords with the production hasher."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user.password = PBKDF2PasswordHasher().encode(EXCHANGE_PASSWORD, "hostilesalt1234")
    user.save(update_fields=["password"])


def _checkauth(base):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    token = base64.b64encode(f"obmen:{EXCHANGE_PASSWORD}".encode()).decode()
    conn.request("GET", "/1c/exchange?type=catalog&mode=checkauth", headers={"Authorization": f"Basic {token}"})
    lines = conn.getresponse().read().decode().split("\n")
    assert lines[0] == "success", lines
    cookie = f"{lines[1]}={lines[2]}"
    conn.request("GET", "/1c/exchange?type=catalog&mode=init", headers={"Cookie": cookie})
    assert conn.getresponse().read().startswith(b"zip=")
    return conn, cookie


@pytest.mark.django_db(transaction=True)
def test_over_gunicorn_chunked_is_stored_whole_and_a_dropped_connection_leaves_nothing(
    exchange_user, start_web, settings, case
):
    web = start_web(ONEC_FILE_LIMIT=100_000, CELERY_TASK_ALWAYS_EAGER="false")
    web_password(exchange_user)
    conn, cookie = _checkauth(web.url)
    with case.unchanged():
        parts = (b"<part>" * 1000 for _ in range(5))
        conn.request("POST", "/1c/exchange?type=catalog&mode=file&filename=import.xml", body=parts,
                     headers={"Cookie": cookie}, encode_chunked=True)  # fmt: skip
        assert conn.getresponse().read() == b"success"
        # 1C's connection drops in the middle of the next chunk.
        parsed = urlsplit(web.url)
        raw = socket.create_connection((parsed.hostname, parsed.port))
        raw.sendall(
            b"POST /1c/exchange?type=catalog&mode=file&filename=import.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Cookie: {cookie}\r\nContent-Length: 50000\r\n\r\n".encode() + b"z" * 20000
        )
        time.sleep(0.3)
        raw.close()
        time.sleep(1.5)
    client_session = ExchangeSession.objects.order_by("-pk").first()
    path = uploads.exchange_storage().path(f"{client_session.folder}/import.xml")
    with open(path, "rb") as handle:
        assert handle.read() == b"<part>" * 5000
    assert "не полностью" in web.output() or "refused" in web.output()
