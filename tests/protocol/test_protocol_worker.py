"""The progress loop against a real Celery worker (Redis broker, committed data)."""

import io
import time
import zipfile

import pytest

from integration_1c.models import ExchangeFile

from .conftest import OneC, patch_service, text

pytestmark = pytest.mark.django_db(transaction=True)


def poll(client, name, timeout=60):
    """Call mode=import as 1C does until the answer is not progress; return every answer."""
    answers = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = text(client.import_(name))
        answers.append(answer)
        if not answer.startswith("progress"):
            return answers
        time.sleep(0.05)
    pytest.fail(f"{name}: still progress after {timeout} s: {answers[-3:]}")


def slow_importer(monkeypatch, steps=3):
    """An importer that works for a while and reports progress like the real one."""

    def apply_file(file_id):
        ExchangeFile.objects.filter(pk=file_id).update(state=ExchangeFile.RUNNING)
        for step in range(1, steps + 1):
            time.sleep(0.1)
            ExchangeFile.objects.filter(pk=file_id).update(processed=step * 100)
        ExchangeFile.objects.filter(pk=file_id).update(state=ExchangeFile.DONE)

    patch_service(monkeypatch, "importer", apply_file=apply_file, read_progress=lambda f: f.processed)


def log_in(client):
    """A new exchange run of ``client``: checkauth, then init."""
    text(client.checkauth())
    text(client.init())
    return client


def zipped(*names):
    """An archive of small XML members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, "<a/>")
    return buffer.getvalue()


def test_progress_loops_end_in_success_with_a_real_worker(exchange_user, celery_worker, monkeypatch, settings):
    """A plain file, then (next cycle) an archive too big to unpack within a call; every call answers at once."""
    from integration_1c.protocol import pipeline

    settings.ONEC_PROGRESS_WAIT_SECONDS = 0
    slow_importer(monkeypatch)
    client = log_in(OneC())
    client.send("import.xml", b"<x/>")

    answers = poll(client, "import.xml")

    assert answers[-1] == "success"
    assert answers[0].startswith("progress\n")
    assert any("обработано записей:" in answer for answer in answers[:-1])

    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_BYTES", 1)
    log_in(client).send("v8.zip", zipped("import.xml", "offers.xml"), chunk_size=64)

    assert poll(client, "import.xml")[-1] == "success"
    assert poll(client, "offers.xml")[-1] == "success"
    assert ExchangeFile.objects.get(name="v8.zip").state == ExchangeFile.DONE


def test_a_call_watches_the_workers_file_and_answers_the_moment_it_is_done(
    exchange_user, celery_worker, monkeypatch, settings
):
    """
    1C asks again the moment it reads ``progress``: a call waits for the worker's file
    instead (at most ONEC_PROGRESS_WAIT_SECONDS), so an import of 0.3 s is answered by
    one call, with ``success`` as soon as the worker is done, and an archive unpacked by
    the worker is waited for the same way.
    """
    from integration_1c.protocol import pipeline

    settings.ONEC_PROGRESS_WAIT_SECONDS = 5
    slow_importer(monkeypatch)
    client = log_in(OneC())
    client.send("import.xml", b"<x/>")

    started = time.monotonic()
    assert poll(client, "import.xml") == ["success"]
    assert time.monotonic() - started < 2.5

    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_BYTES", 1)
    log_in(client).send("v8.zip", zipped("import.xml"))
    assert poll(client, "import.xml") == ["success"]
    assert ExchangeFile.objects.get(name="v8.zip").state == ExchangeFile.DONE


def test_a_call_answers_progress_once_its_wait_is_over(exchange_user, celery_worker, monkeypatch, settings):
    """A longer import is still reported by progress answers, none later than the wait allows."""
    settings.ONEC_PROGRESS_WAIT_SECONDS = 0.2
    slow_importer(monkeypatch, steps=12)
    client = log_in(OneC())
    client.send("import.xml", b"<x/>")

    calls = []
    answers = []
    while not answers or answers[-1].startswith("progress"):
        started = time.monotonic()
        answers.append(text(client.import_("import.xml")))
        calls.append(time.monotonic() - started)
        assert len(answers) < 60, answers[-3:]
    assert answers[-1] == "success"
    assert answers[0].startswith("progress\n") and any("обработано записей:" in answer for answer in answers)
    assert 3 <= len(answers) <= 12, answers  # about 1.2 s of import in calls of 0.2 s
    assert max(calls) < 1.0, calls


def test_real_1c_files_through_the_real_importer(exchange_user, celery_worker, samples_dir):
    """Transport and C's importer together: a zip of real files, one progress loop per file."""
    importer = pytest.importorskip("integration_1c.services.importer")
    assert hasattr(importer, "apply_file")
    from oscar.core.loading import get_model

    folder = samples_dir / "dobromyslov-commerceml-parser"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("import0_1.xml", "offers0_1.xml"):
            archive.write(folder / name, name)
    client = OneC()
    text(client.checkauth())
    text(client.checkauth())
    assert text(client.init(version="2.08")).startswith("zip=yes")
    client.send("v8_1065_3a.zip", buffer.getvalue(), chunk_size=16 * 1024)

    for name in ("import0_1.xml", "offers0_1.xml"):
        answers = poll(client, name, timeout=120)
        assert answers[-1] == "success", answers[-1]

    assert get_model("catalogue", "Product").objects.filter(code__isnull=False).exists()
    kinds = dict(ExchangeFile.objects.values_list("name", "kind"))
    assert kinds["import0_1.xml"] == "catalogue" and kinds["offers0_1.xml"] == "offers"
