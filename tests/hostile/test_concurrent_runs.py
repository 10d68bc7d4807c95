"""Two exchanges at once (two 1C nodes of one user, a catalogue and an orders run) and Redis down."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from oscar.core.loading import get_model

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.protocol import pipeline, uploads
from tests.protocol.conftest import OneC, _fast_password_hashing, queue, text  # noqa: F401

from .cml import catalogue

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")


def connected(exchange_type="catalog", agent="1C+Enterprise/8.3"):
    client = OneC(exchange_type)
    client.client.defaults["HTTP_USER_AGENT"] = agent
    assert text(client.checkauth()).startswith("success")
    assert text(client.init()).startswith("zip=")
    return client


def test_two_runs_at_once_never_touch_each_others_files_or_sessions(exchange_user, queue, settings, case):
    settings.ONEC_FILE_LIMIT = 64
    first = connected(agent="node-1")
    first.call("file", body=catalogue({"a-1": "Первый"}, catalogue_id="cat-A")[:64], filename="import.xml")
    second = connected(agent="node-2")  # its checkauth and init come in the middle of the first's upload
    orders = connected("sale", agent="node-2")
    with case.unchanged():
        second.send("import.xml", catalogue({"b-1": "Второй"}, catalogue_id="cat-B"), chunk_size=64)
        orders.send("documents.xml", b"<x/>" * 40, chunk_size=64)
        queue.run()
    rest = catalogue({"a-1": "Первый"}, catalogue_id="cat-A")[64:]
    first.send("import.xml", rest, chunk_size=64)
    assert text(first.import_("import.xml")).startswith("progress")
    assert text(second.import_("import.xml")).startswith("progress")
    queue.run()
    assert text(first.import_("import.xml")) == "success"
    assert text(second.import_("import.xml")) == "success"
    sessions = {s.token: s for s in ExchangeSession.objects.all()}
    assert len({s.folder for s in sessions.values()}) == 3
    assert set(Product.objects.values_list("code", flat=True)) >= {"a-1", "b-1"}
    assert sessions[first.sessid].files.get().name == "import.xml"


def test_old_folders_go_by_age_and_a_folder_in_use_stays(exchange_user, settings, case):
    settings.ONEC_KEEP_EXCHANGE_HOURS = 24
    client = connected()
    client.send("import_files/a.jpg", b"jpeg")
    session = ExchangeSession.objects.get(token=client.sessid)
    long_ago = timezone.now() - timedelta(days=3)
    ExchangeSession.objects.filter(pk=session.pk).update(started_at=long_ago)  # a long run, still calling
    abandoned = ExchangeSession.objects.create(
        exchange_type="catalog", token="gone", started_at=long_ago, last_seen_at=long_ago,
        folder=uploads.new_folder_name("catalog", "gone", long_ago),
    )  # fmt: skip
    uploads.UploadFolder(abandoned.folder).write("import.xml", __import__("io").BytesIO(b"<old/>"))
    with case.unchanged():
        removed = pipeline.cleanup()
    assert removed == [abandoned.folder]
    assert uploads.UploadFolder(session.folder).exists("import_files/a.jpg")


def test_redis_down_fails_with_a_clear_reason_and_the_file_goes_again(exchange_user, queue, settings, case):
    client = connected()
    client.send("import.xml", catalogue({"p-1": "Товар"}))
    saved = settings.CACHES
    with case.unchanged():
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:9/0",
                "OPTIONS": {"socket_connect_timeout": 1},
            }
        }
        started = time.monotonic()
        assert text(client.import_("import.xml")).startswith("progress")
        queue.run()  # the worker meets the same Redis
        answer = text(client.import_("import.xml"))
        assert time.monotonic() - started < 20
    assert answer.startswith("failure\n") and "Redis" in answer, answer
    assert "127.0.0.1" not in answer and "Error" not in answer
    settings.CACHES = saved
    client.send("import.xml", catalogue({"p-1": "Товар"}))
    text(client.import_("import.xml"))
    queue.run()
    assert text(client.import_("import.xml")) == "success"
    assert ExchangeFile.objects.filter(name="import.xml", state=ExchangeFile.DONE).count() == 1
