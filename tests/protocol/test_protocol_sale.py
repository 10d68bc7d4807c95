"""type=sale: query / success / info wiring, and order documents sent back by 1C."""

import pytest

from integration_1c.models import ExchangeFile, ExchangeSession

from .conftest import OneC, patch_service, text
from .test_protocol_archive import make_zip

pytestmark = pytest.mark.django_db

DOCUMENT = "<?xml version='1.0' encoding='windows-1251'?><КоммерческаяИнформация/>".encode("cp1251")


def test_query_answers_the_order_document_in_its_own_encoding(sale_client, monkeypatch):
    sessions = []
    patch_service(
        monkeypatch,
        "orders",
        build_query_answer=lambda session: sessions.append(session) or (DOCUMENT, "windows-1251"),
    )

    response = sale_client.call("query")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=windows-1251"
    assert response.content == DOCUMENT
    assert [session.token for session in sessions] == [sale_client.sessid]


def test_success_acknowledges_the_session_that_queried(sale_client, monkeypatch):
    sessions = []
    patch_service(monkeypatch, "orders", acknowledge=lambda session: sessions.append(session.token) or 2)

    assert text(sale_client.call("success")) == "success"
    assert sessions == [sale_client.sessid]


def test_info_answers_the_reference_document(sale_client, monkeypatch):
    patch_service(
        monkeypatch, "orders", info_document=lambda: (b"\xef\xbb\xbf<?xml version='1.0'?><x/>", "utf-8")
    )

    response = sale_client.call("info")

    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf<?xml")


def test_query_that_fails_answers_failure_text_not_a_half_document(sale_client, monkeypatch):
    def broken(session):
        raise LookupError("no such order status")

    patch_service(monkeypatch, "orders", build_query_answer=broken)

    answer = text(sale_client.call("query"))
    assert answer.startswith("failure\nВнутренняя ошибка сайта") and "no such order status" not in answer


def test_query_needs_checkauth(db):
    assert text(OneC("sale").call("query")).startswith("failure\n")


def test_a_complete_order_document_is_applied_within_the_file_call(sale_client, importer):
    assert text(sale_client.call("file", body=b"<doc/>", filename="documents.xml")) == "success"

    assert importer.applied == [("documents.xml", b"<doc/>")]
    assert ExchangeFile.objects.get().state == ExchangeFile.DONE
    assert text(sale_client.import_("documents.xml")) == "success"  # newer clients ask again


def test_a_document_that_cannot_be_applied_fails_the_file_call(sale_client, importer):
    answer = text(sale_client.call("file", body=b"<FAIL/>", filename="documents.xml"))

    assert answer == "failure\ndocuments.xml: тип цен «Розничная» не найден"


def test_a_document_in_several_chunks_is_queued_when_its_last_chunk_arrives(
    sale_client, importer, queue, settings
):
    settings.ONEC_FILE_LIMIT = 4
    sale_client.send("documents.xml", b"<doc>1</doc>", chunk_size=4)  # 4 + 4 + 4: the last is not short
    assert queue.sent == [] and importer.applied == []

    sale_client.send("more.xml", b"<doc>22</doc>", chunk_size=4)  # 4 + 4 + 4 + 1
    assert queue.names() == ["import_exchange_file"]
    queue.run()
    assert text(sale_client.import_("more.xml")) == "success"
    assert text(sale_client.import_("documents.xml")).startswith("progress\n")  # complete now: 1C asked
    queue.run()
    assert [name for name, _content in importer.applied] == ["more.xml", "documents.xml"]


def test_a_zipped_document_waits_for_mode_import(sale_client, importer, queue):
    assert (
        text(sale_client.call("file", body=make_zip({"documents.xml": b"<doc/>"}), filename="orders.zip"))
        == "success"
    )
    assert importer.applied == []

    assert text(sale_client.import_("documents.xml")).startswith("progress\n")
    queue.run()
    assert text(sale_client.import_("documents.xml")) == "success"


def test_the_real_order_services_answer_query_and_info(sale_client):
    pytest.importorskip("integration_1c.services.orders")

    query = sale_client.call("query")
    info = sale_client.call("info")

    for response in (query, info):
        content_type = response["Content-Type"]
        assert content_type.startswith("application/xml; charset=")
        charset = content_type.split("charset=")[1]
        body = response.content.decode(charset).lstrip("\ufeff")
        assert body.startswith("<?xml") and f'encoding="{charset.upper()}"'.lower() in body[:80].lower()
    assert text(sale_client.call("success")) == "success"
    assert ExchangeSession.objects.get(token=sale_client.sessid).exchange_type == "sale"
