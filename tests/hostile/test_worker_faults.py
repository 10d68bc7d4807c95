"""
A worker that dies, a broker that delivers late or not at all: 1C is told, nothing stale
lands, and the next exchange works. Real Celery workers (subprocesses on this test's
database and Redis) where the case is about the worker.
"""

import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from oscar.core.loading import get_model

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.services.importer import IMPORT_LOCK_KEY
from tests.protocol.conftest import OneC, _fast_password_hashing, queue, text  # noqa: F401

from .cml import catalogue

pytestmark = pytest.mark.django_db(transaction=True)

Product = get_model("catalogue", "Product")


def poll(client, name, timeout=60):
    deadline = time.monotonic() + timeout
    answers = []
    while time.monotonic() < deadline:
        answer = text(client.import_(name))
        answers.append(answer)
        if not answer.startswith("progress"):
            return answers
        time.sleep(0.1)
    pytest.fail(f"{name}: still progress after {timeout} s: {answers[-3:]}")


def wait_until(predicate, timeout=30, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"{message} not reached in {timeout} s")


@contextmanager
def imports_blocked():
    """Hold the importer's advisory lock from another connection: an import waits, RUNNING, leased."""
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=params["dbname"], user=params.get("user"), host=params.get("host"), port=params.get("port"),
        autocommit=True,
    ) as holder:  # fmt: skip
        holder.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK_KEY])
        yield holder


def connected_client(user):
    client = OneC()
    assert text(client.checkauth()).startswith("success")
    assert text(client.init()).startswith("zip=")
    return client


def test_a_killed_worker_is_noticed_and_the_file_goes_again_at_once(
    exchange_user, start_worker, purged_queue, settings, case
):
    settings.ONEC_WORKER_LEASE_SECONDS = 1
    worker_env = {"ONEC_WORKER_LEASE_SECONDS": 1, "CELERY_VISIBILITY_TIMEOUT": 2}
    client = connected_client(exchange_user)
    client.send("import.xml", catalogue({"p-1": "Старое название"}))

    with case.unchanged():
        with imports_blocked():
            worker = start_worker(**worker_env)
            assert text(client.import_("import.xml")).startswith("progress")
            first = ExchangeFile.objects.get(name="import.xml")
            wait_until(
                lambda: ExchangeFile.objects.filter(pk=first.pk, state=ExchangeFile.RUNNING, lease_until__isnull=False).exists(),
                message="the worker holding the file",
            )  # fmt: skip
            time.sleep(0.8)  # a few renewals
            assert ExchangeFile.objects.get(pk=first.pk).lease_until > first.uploaded_at
            worker.kill()
            time.sleep(1.6)  # the lease lapses
            answer = text(client.import_("import.xml"))
        assert answer.startswith("failure\n"), answer
        assert "перестал отвечать" in answer and "Отправьте файл снова" in answer
        assert "Traceback" not in answer and "127.0.0.1" not in answer
        first.refresh_from_db()
        assert first.state == ExchangeFile.FAILED
        assert "перестал отвечать" in ExchangeSession.objects.get().messages[-1]["message"]

    # 1C sends the file again at once, in the same session, and the next exchange works.
    client.send("import.xml", catalogue({"p-1": "Новое название"}))
    start_worker(**worker_env)
    assert poll(client, "import.xml")[-1] == "success"
    assert Product.objects.get(code="p-1").title == "Новое название"
    # The killed worker's message comes back (visibility timeout): it finds its file failed.
    time.sleep(3)
    first.refresh_from_db()
    assert first.state == ExchangeFile.FAILED and first.attempt == 1
    fresh = connected_client(exchange_user)
    fresh.send("import.xml", catalogue({"p-2": "Ещё товар"}))
    assert poll(fresh, "import.xml")[-1] == "success"
    assert Product.objects.filter(code__in=["p-1", "p-2"]).count() == 2


def test_stale_work_delivered_late_never_lands(exchange_user, queue, case):
    """An old exchange's task delivered after a newer exchange of the same catalogue began is dropped."""
    old = connected_client(exchange_user)
    old.send("import.xml", catalogue({"p-1": "Старые данные"}))
    assert text(old.import_("import.xml")).startswith("progress")  # queued; the worker is gone
    stale_task = queue.sent.pop()

    new = connected_client(exchange_user)
    new.send("import.xml", catalogue({"p-1": "Новые данные"}))
    assert text(new.import_("import.xml")).startswith("progress")
    queue.run()
    assert text(new.import_("import.xml")) == "success"

    with case.unchanged():
        task, args, kwargs = stale_task
        task.apply(args=args, kwargs=kwargs, throw=True)  # the broker redelivers, an hour late
        answer = text(old.import_("import.xml"))
    assert Product.objects.get(code="p-1").title == "Новые данные"
    assert answer.startswith("failure\n") and "отброшена" in answer
    stale = ExchangeFile.objects.filter(name="import.xml").order_by("pk").first()
    assert stale.state == ExchangeFile.FAILED
    assert any("отброшена" in note["message"] for note in stale.session.messages)


def test_another_catalogue_is_not_overtaken(exchange_user, queue):
    """Two 1C catalogues in one shop: a newer exchange of one does not make the other stale."""
    first = connected_client(exchange_user)
    first.send("import.xml", catalogue({"a-1": "Первый каталог"}, catalogue_id="cat-A"))
    text(first.import_("import.xml"))
    waiting = queue.sent.pop()
    second = connected_client(exchange_user)
    second.send("import.xml", catalogue({"b-1": "Второй каталог"}, catalogue_id="cat-B"))
    text(second.import_("import.xml"))
    queue.run()
    waiting[0].apply(args=waiting[1], kwargs=waiting[2], throw=True)
    assert text(first.import_("import.xml")) == "success"
    assert set(Product.objects.values_list("code", flat=True)) >= {"a-1", "b-1"}


def test_a_file_no_worker_takes_is_answered_failure(exchange_user, queue, settings, case):
    settings.ONEC_QUEUE_TIMEOUT_SECONDS = 0.5
    client = connected_client(exchange_user)
    client.send("import.xml", catalogue({"p-1": "Товар"}))
    with case.unchanged():
        assert text(client.import_("import.xml")).startswith("progress")
        time.sleep(0.7)
        answer = text(client.import_("import.xml"))
        assert answer.startswith("failure\n") and "Celery worker" in answer
        queue.run()  # delivered after 1C was told: dropped
    client.send("import.xml", catalogue({"p-1": "Товар"}))
    assert text(client.import_("import.xml")).startswith("progress")
    queue.run()
    assert text(client.import_("import.xml")) == "success"


@contextmanager
def broker_at(url):
    """Point the shop's Celery app at another broker (a refusing one) for a while."""
    from shop.celery import app

    saved = app.conf.broker_url

    def reset():
        # kombu keeps a producer pool per connection: dropping ours picks the pool of the new URL.
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        reset()


def test_a_broker_that_refuses_fails_the_import_and_nothing_is_half_queued(exchange_user, celery_worker, case):
    client = connected_client(exchange_user)
    client.send("import.xml", catalogue({"p-1": "Товар"}))
    with case.unchanged():
        with broker_at("redis://127.0.0.1:9/0"):
            started = time.monotonic()
            answer = text(client.import_("import.xml"))
            assert time.monotonic() - started < 15
        assert answer.startswith("failure\n") and "брокер задач" in answer, answer
        assert "127.0.0.1" not in answer and "Error" not in answer
        assert ExchangeFile.objects.get(name="import.xml").state == ExchangeFile.FAILED
        assert text(client.import_("import.xml")).startswith("failure")  # the same reason, not progress
    client.send("import.xml", catalogue({"p-1": "Товар"}))
    assert poll(client, "import.xml")[-1] == "success"
    assert Product.objects.filter(code="p-1").exists()
