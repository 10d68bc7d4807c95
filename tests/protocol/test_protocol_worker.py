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


def test_progress_loops_end_in_success_with_a_real_worker(exchange_user, celery_worker, monkeypatch):
    """A plain file, then (next cycle) an archive too big to unpack within a call."""
    from integration_1c.protocol import pipeline

    slow_importer(monkeypatch)
    client = OneC()
    text(client.checkauth())
    text(client.init())
    client.send("import.xml", b"<x/>")

    answers = poll(client, "import.xml")

    assert answers[-1] == "success"
    assert answers[0].startswith("progress\n")
    assert any("обработано записей:" in answer for answer in answers[:-1])

    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_BYTES", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("import.xml", "<a/>")
        archive.writestr("offers.xml", "<b/>")
    text(client.checkauth())
    text(client.init())
    client.send("v8.zip", buffer.getvalue(), chunk_size=64)

    assert poll(client, "import.xml")[-1] == "success"
    assert poll(client, "offers.xml")[-1] == "success"
    assert ExchangeFile.objects.get(name="v8.zip").state == ExchangeFile.DONE


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
