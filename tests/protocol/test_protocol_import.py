"""mode=import (progress loop, states), deactivate, and failures that must stay text."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.protocol import pipeline

from .conftest import OneC, patch_service, text

pytestmark = pytest.mark.django_db


def test_import_is_queued_once_and_answers_progress_until_done(onec, importer, queue):
    onec.send("import.xml", b"<KommerceML/>")

    assert text(onec.import_("import.xml")).startswith("progress\n")
    assert text(onec.import_("import.xml")).startswith("progress\n")
    assert queue.names() == ["import_exchange_file"]
    assert ExchangeFile.objects.get().state == ExchangeFile.QUEUED

    queue.run()

    assert text(onec.import_("import.xml")) == "success"
    assert importer.applied == [("import.xml", b"<KommerceML/>")]
    assert queue.sent == []


def test_a_running_import_reports_how_far_it_got(onec, importer, queue):
    onec.send("offers.xml", b"<x/>")
    text(onec.import_("offers.xml"))
    ExchangeFile.objects.update(state=ExchangeFile.RUNNING, processed=42)

    assert text(onec.import_("offers.xml")) == "progress\nФайл «offers.xml»: обработано записей: 42"


def test_a_failed_import_answers_failure_with_the_importers_reason(onec, importer, queue):
    onec.send("offers.xml", b"<FAIL/>")
    text(onec.import_("offers.xml"))
    queue.run()

    assert text(onec.import_("offers.xml")) == "failure\noffers.xml: тип цен «Розничная» не найден"


def test_an_exception_in_the_importer_fails_the_file_instead_of_looping_forever(onec, queue, monkeypatch):
    def broken(file_id):
        raise MemoryError("out of memory")

    patch_service(monkeypatch, "importer", apply_file=broken)
    onec.send("import.xml", b"<x/>")
    text(onec.import_("import.xml"))
    queue.run()

    answer = text(onec.import_("import.xml"))
    assert answer.startswith("failure\nВнутренняя ошибка сайта при загрузке «import.xml» (MemoryError)")


def test_importing_a_file_that_was_never_uploaded_fails_with_its_name(onec):
    answer = text(onec.import_("offers___7f30.xml"))

    assert answer.startswith("failure\n")
    assert "«offers___7f30.xml» не был загружен" in answer


def test_importing_without_a_filename_fails(onec):
    assert text(onec.call("import")).startswith("failure\nНе указано имя файла")


def test_an_unexpected_exception_answers_failure_text_not_an_html_page(onec, monkeypatch, settings):
    settings.DEBUG = True

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "receive_chunk", explode)

    response = onec.call("file", body=b"<x/>", filename="import.xml")

    answer = text(response)
    assert answer.startswith("failure\nВнутренняя ошибка сайта: запрос обмена не выполнен.\n")
    assert "номер ошибки" in answer and "disk on fire" not in answer  # details go to the log only
    messages = ExchangeSession.objects.get(token=onec.sessid).messages
    assert messages[-1]["mode"] == "file" and "disk on fire" in messages[-1]["message"]


def test_deactivate_hides_what_was_not_touched_since_the_checkauth_timestamp(onec, monkeypatch):
    calls = []
    patch_service(monkeypatch, "catalogue", deactivate_untouched=lambda since: calls.append(since) or (3, 1))

    answer = text(onec.call("deactivate", timestamp=onec.timestamp))

    assert answer == "success\nСкрыто товаров: 3, групп: 1"
    assert calls == [datetime.fromtimestamp(int(onec.timestamp), tz=UTC)]


def test_deactivate_after_a_checkauth_per_file_counts_from_the_first_cycle(exchange_user, monkeypatch):
    """The last checkauth's timestamp would make the first file's products look untouched."""
    calls = []
    patch_service(monkeypatch, "catalogue", deactivate_untouched=lambda since: calls.append(since) or (0, 0))
    earlier_run = ExchangeSession.objects.create(
        exchange_type="catalog", user=exchange_user, token="yesterday",
        started_at=timezone.now() - timedelta(hours=1), last_seen_at=timezone.now() - timedelta(minutes=50),
    )  # fmt: skip
    cycles = []
    for _ in range(3):
        client = OneC()
        text(client.checkauth())
        text(client.init())
        cycles.append(client)
    first = ExchangeSession.objects.get(token=cycles[0].sessid)
    ExchangeSession.objects.filter(pk=first.pk).update(started_at=first.started_at - timedelta(minutes=5))

    assert text(cycles[-1].call("deactivate", timestamp=cycles[-1].timestamp)).startswith("success")

    assert calls == [first.started_at - timedelta(minutes=5)]
    assert calls[0] > earlier_run.started_at


def test_deactivate_without_a_timestamp_fails_and_hides_nothing(onec, monkeypatch):
    """As 1C-Bitrix: no timestamp, no guess — hiding on a guess can empty the shop."""
    calls = []
    patch_service(monkeypatch, "catalogue", deactivate_untouched=lambda since: calls.append(since) or (0, 0))

    answer = text(onec.call("deactivate"))

    assert answer.startswith("failure\nНе передан timestamp")
    assert "Ничего не скрыто." in answer
    assert calls == []


def test_deactivate_with_a_timestamp_from_the_future_fails(onec, monkeypatch):
    calls = []
    patch_service(monkeypatch, "catalogue", deactivate_untouched=lambda since: calls.append(since) or (0, 0))

    answer = text(onec.call("deactivate", timestamp=str(int(timezone.now().timestamp()) + 86400)))

    assert answer.startswith("failure\n")
    assert "не похож на время из ответа на checkauth" in answer
    assert calls == []


def test_deactivate_with_a_garbled_timestamp_fails_and_hides_nothing(onec, monkeypatch):
    calls = []
    patch_service(monkeypatch, "catalogue", deactivate_untouched=lambda since: calls.append(since))

    answer = text(onec.call("deactivate", timestamp="вчера"))

    assert answer.startswith("failure\nНепонятное значение timestamp=«вчера»")
    assert calls == []
