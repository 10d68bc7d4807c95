"""
``apply_file`` (the Celery task's entry point), ``apply_path`` and ``import_1c_folder``
on small CommerceML documents: journal, progress, one transaction per file.
"""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.services import importer
from integration_1c.services.context import ImportFailed

from .builders import Category, Product, snapshot, stock_of

pytestmark = pytest.mark.django_db

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.07" ДатаФормирования="2024-01-01T10:00:00">'


def product_xml(pid, name, group="g1", article=""):
    return (
        f"<Товар><Ид>{pid}</Ид><Артикул>{article}</Артикул><Наименование>{name}</Наименование>"
        f'<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>'
        f"<Группы><Ид>{group}</Ид></Группы></Товар>"
    )


def catalogue_xml(*products, changes_only="false", groups=(("g1", "Обувь"),)):
    group_xml = "".join(
        f"<Группа><Ид>{gid}</Ид><Наименование>{name}</Наименование></Группа>" for gid, name in groups
    )
    return (
        f"{HEAD}<Классификатор><Ид>cl</Ид><Наименование>Классификатор</Наименование><Группы>{group_xml}</Группы>"
        f'</Классификатор><Каталог СодержитТолькоИзменения="{changes_only}"><Ид>cat</Ид><ИдКлассификатора>cl'
        f"</ИдКлассификатора><Наименование>Каталог</Наименование><Товары>{''.join(products)}</Товары></Каталог>"
        f"</КоммерческаяИнформация>"
    )


def offers_xml(*offers, changes_only="false"):
    return (
        f'{HEAD}<ПакетПредложений СодержитТолькоИзменения="{changes_only}"><Ид>pp</Ид><Наименование>Пакет</Наименование>'
        f"<ИдКаталога>cat</ИдКаталога><ИдКлассификатора>cl</ИдКлассификатора>"
        f"<ТипыЦен><ТипЦены><Ид>rt</Ид><Наименование>Розничная</Наименование><Валюта>KZT</Валюта></ТипЦены></ТипыЦен>"
        f"<Склады><Склад><Ид>wh</Ид><Наименование>Главный</Наименование></Склад></Склады>"
        f"<Предложения>{''.join(offers)}</Предложения></ПакетПредложений></КоммерческаяИнформация>"
    )


def offer_xml(oid, price, quantity):
    return (
        f"<Предложение><Ид>{oid}</Ид><Наименование>x</Наименование><Цены><Цена><ИдТипаЦены>rt</ИдТипаЦены>"
        f"<ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу><Валюта>KZT</Валюта></Цена></Цены>"
        f'<Склад ИдСклада="wh" КоличествоНаСкладе="{quantity}"/></Предложение>'
    )


def upload(name, content, folder="ex-1"):
    """An uploaded file as the protocol leaves it: a session, a journal row, the bytes in storage."""
    session, _ = ExchangeSession.objects.get_or_create(
        token=folder, defaults={"exchange_type": "catalog", "folder": folder}
    )
    storages["exchange"].save(f"{folder}/{name}", ContentFile(content.encode("utf-8")))
    return ExchangeFile.objects.create(session=session, name=name, state=ExchangeFile.QUEUED)


def test_apply_file_imports_and_journals():
    exchange_file = upload(
        "import.xml", catalogue_xml(product_xml("p1", "Кеды"), product_xml("p2", "Кроссовки"))
    )

    importer.apply_file(exchange_file.pk)

    exchange_file.refresh_from_db()
    assert exchange_file.state == ExchangeFile.DONE
    assert exchange_file.kind == "catalogue"
    assert (exchange_file.created, exchange_file.updated, exchange_file.hidden) == (3, 0, 0)
    assert exchange_file.processed == 3
    assert exchange_file.started_at <= exchange_file.finished_at
    assert exchange_file.error == ""
    assert importer.read_progress(exchange_file) == 3
    assert set(Product.objects.values_list("code", flat=True)) == {"p1", "p2"}


def test_offers_file_in_the_same_session():
    importer.apply_file(upload("import.xml", catalogue_xml(product_xml("p1", "Кеды"))).pk)
    exchange_file = upload(
        "offers.xml", offers_xml(offer_xml("p1", "990.00", "3"), offer_xml("nope", "1", "1"))
    )

    importer.apply_file(exchange_file.pk)

    exchange_file.refresh_from_db()
    assert exchange_file.state == ExchangeFile.DONE
    assert (exchange_file.kind, exchange_file.updated, exchange_file.skipped) == ("offers", 1, 1)
    assert exchange_file.warnings == [
        "offers.xml: предложение nope «x»: товар nope не найден в каталоге — пропущено"
    ]
    assert stock_of("p1")["site"][0] == 3


def test_progress_is_read_from_the_cache_while_running():
    exchange_file = upload("import.xml", catalogue_xml(product_xml("p1", "Кеды")))
    exchange_file.state = ExchangeFile.RUNNING
    cache.set(importer.progress_key(exchange_file.pk), 1234, 60)
    assert importer.read_progress(exchange_file) == 1234


def test_truncated_file_fails_and_changes_nothing():
    importer.apply_file(upload("import.xml", catalogue_xml(product_xml("p1", "Кеды"))).pk)
    before = snapshot()
    full = catalogue_xml(
        *(product_xml(f"n{i}", f"Новый {i}") for i in range(50)), product_xml("p1", "Кеды 2")
    )
    exchange_file = upload("import.xml", full[: len(full) - 300], folder="ex-2")

    importer.apply_file(exchange_file.pk)

    exchange_file.refresh_from_db()
    assert exchange_file.state == ExchangeFile.FAILED
    assert exchange_file.error.startswith("import.xml")
    assert snapshot() == before


def test_a_value_the_database_refuses_fails_the_whole_file():
    importer.apply_file(upload("import.xml", catalogue_xml(product_xml("p1", "Кеды"))).pk)
    before = snapshot()
    too_long = "x" * 300  # Product.code is 255 characters
    exchange_file = upload(
        "import.xml",
        catalogue_xml(product_xml("p2", "Новый"), product_xml(too_long, "Длинный")),
        folder="ex-2",
    )

    importer.apply_file(exchange_file.pk)

    exchange_file.refresh_from_db()
    assert exchange_file.state == ExchangeFile.FAILED
    assert "данные файла не записаны" in exchange_file.error
    assert "Каталог на сайте не изменён" in exchange_file.error
    assert snapshot() == before


def test_a_write_sent_behind_that_the_database_refuses_fails_the_whole_file(monkeypatch):
    """The stock records go to PostgreSQL behind the import (bulk.WriteBehind): refused, the file fails as any write."""
    from django.db import connection

    from integration_1c.services import bulk

    if connection.vendor != "postgresql":
        pytest.skip("writes go behind on PostgreSQL only")
    importer.apply_file(upload("import.xml", catalogue_xml(product_xml("p1", "Кеды"))).pk)
    importer.apply_file(upload("offers.xml", offers_xml(offer_xml("p1", "990.00", "3")), folder="ex-2").pk)
    before = snapshot()
    original = bulk.WriteBehind._write

    def refusing(self, sql, params, plain_insert):
        if "partner_stockrecord" in sql.split("(")[0]:
            sql = sql.replace("u.c0", "(1 / 0 + u.c0)", 1)  # division by zero, in the database
        return original(self, sql, params, plain_insert)

    monkeypatch.setattr(bulk.WriteBehind, "_write", refusing)
    exchange_file = upload("offers.xml", offers_xml(offer_xml("p1", "1290.00", "5")), folder="ex-3")

    importer.apply_file(exchange_file.pk)

    exchange_file.refresh_from_db()
    assert exchange_file.state == ExchangeFile.FAILED
    # The write's own reason, not the "transaction aborted" of the statement after it.
    assert "база данных отказала: division by zero" in exchange_file.error
    assert "Каталог на сайте не изменён" in exchange_file.error
    assert snapshot() == before


def test_missing_file_fails_with_a_message():
    session = ExchangeSession.objects.create(token="t", exchange_type="catalog", folder="empty")
    exchange_file = ExchangeFile.objects.create(session=session, name="import.xml", state=ExchangeFile.QUEUED)
    importer.apply_file(exchange_file.pk)
    exchange_file.refresh_from_db()
    assert exchange_file.state == ExchangeFile.FAILED
    assert "не найден" in exchange_file.error


def test_not_commerceml_fails_with_the_readers_message():
    exchange_file = upload("import.xml", "<html><body>oops</body></html>")
    importer.apply_file(exchange_file.pk)
    exchange_file.refresh_from_db()
    assert exchange_file.state == ExchangeFile.FAILED
    assert exchange_file.error


def test_same_file_twice_gives_the_same_catalogue():
    content = catalogue_xml(product_xml("p1", "Кеды", article="A-1"), product_xml("p2", "Кроссовки"))
    importer.apply_file(upload("import.xml", content).pk)
    first = snapshot()
    importer.apply_file(upload("import.xml", content, folder="ex-2").pk)
    assert snapshot() == first


def test_order_documents_go_to_the_orders_service(monkeypatch):
    from integration_1c.services import orders

    seen = {}

    def apply_order_documents(fileobj, report):
        seen["head"] = fileobj.read(200)
        report.updated += 1

    monkeypatch.setattr(orders, "apply_order_documents", apply_order_documents)
    content = (
        f"{HEAD}<Документ><Ид>1</Ид><Номер>1</Номер><Дата>2024-01-01</Дата><ХозОперация>Заказ товара</ХозОперация>"
        f"<Роль>Продавец</Роль><Валюта>KZT</Валюта><Сумма>10</Сумма></Документ></КоммерческаяИнформация>"
    )
    exchange_file = upload("orders.xml", content)

    importer.apply_file(exchange_file.pk)

    exchange_file.refresh_from_db()
    assert (exchange_file.state, exchange_file.kind, exchange_file.updated) == (
        ExchangeFile.DONE,
        "orders",
        1,
    )
    assert seen["head"].lstrip(b"\xef\xbb\xbf").startswith(b"<?xml")


def test_apply_path_raises_with_the_operators_message(tmp_path):
    path = tmp_path / "import.xml"
    path.write_text(catalogue_xml(product_xml("p1", "Кеды"))[:-100], encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        importer.apply_path(path)
    assert "import.xml" in str(failure.value)
    assert not Product.objects.exists()


def test_a_file_is_applied_with_the_process_frozen_and_given_back(tmp_path, monkeypatch, settings):
    """The collector does not walk the worker's heap during an import (shop.memory.frozen_during)."""
    import gc

    from integration_1c.services.catalogue import ProductWriter

    settings.GC_FREEZE = True
    threshold = gc.get_threshold()
    seen = []
    write = ProductWriter.write
    monkeypatch.setattr(
        ProductWriter, "write", lambda self, records: seen.append(gc.get_freeze_count()) or write(self, records)
    )
    path = tmp_path / "import.xml"
    path.write_text(catalogue_xml(product_xml("p1", "Кеды")), encoding="utf-8")
    importer.apply_path(path)
    assert seen and seen[0] > 10_000
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, threshold)
    assert Product.objects.filter(code="p1").exists()


def test_import_folder_applies_catalogue_before_offers(tmp_path):
    # Named so that sorting by name would put the offers first.
    (tmp_path / "a_offers.xml").write_text(offers_xml(offer_xml("p1", "5", "2")), encoding="utf-8")
    (tmp_path / "b_import.xml").write_text(catalogue_xml(product_xml("p1", "Кеды")), encoding="utf-8")
    out = StringIO()

    call_command("import_1c_folder", str(tmp_path), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("b_import.xml [catalogue]")
    assert lines[1].startswith("a_offers.xml [offers]")
    assert stock_of("p1")["site"][0] == 2
    assert Category.objects.filter(code="g1").exists()


def test_import_folder_reports_failures(tmp_path):
    (tmp_path / "import.xml").write_text(catalogue_xml(product_xml("p1", "Кеды"))[:-50], encoding="utf-8")
    with pytest.raises(CommandError, match="import.xml"):
        call_command("import_1c_folder", str(tmp_path), stdout=StringIO(), stderr=StringIO())


def upload_archive(members, folder="ex-zip", lie=None):
    """
    An archive 1C sent, unpacked as the protocol unpacks it (its XML files left packed):
    name -> journal row. ``lie``: (member, declared size) written into its headers.
    """
    import io
    import struct
    import zipfile

    from integration_1c.protocol import pipeline

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content.encode("utf-8"))
    data = bytearray(buffer.getvalue())
    if lie is not None:
        name, declared = lie
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            info = archive.getinfo(name)
        struct.pack_into("<I", data, info.header_offset + 22, declared)
        central = data.find(name.encode(), data.find(b"PK\x01\x02")) - 46  # its entry in the directory
        struct.pack_into("<I", data, central + 24, declared)
    session, _ = ExchangeSession.objects.get_or_create(
        token=folder, defaults={"exchange_type": "catalog", "folder": folder}
    )
    storages["exchange"].save(f"{folder}/v8.zip", ContentFile(bytes(data)))
    archive = ExchangeFile.objects.create(
        session=session, name="v8.zip", kind=pipeline.ARCHIVE, state=ExchangeFile.QUEUED, size=len(data)
    )
    pipeline.unpack_archive(archive.pk)
    archive.refresh_from_db()
    assert archive.state == ExchangeFile.DONE, archive.error
    return {row.name: row for row in ExchangeFile.objects.filter(session=session).exclude(pk=archive.pk)}


@pytest.mark.parametrize("declared", [100, 10**6])
def test_a_packed_xml_whose_size_lies_fails_with_its_reason_and_changes_nothing(declared):
    """
    An XML member whose headers give another size than it inflates to (cut, replaced or
    forged): the file fails with the reason for the operator, nothing is written, and
    nothing past the promised size is ever inflated.
    """
    importer.apply_file(upload("import.xml", catalogue_xml(product_xml("p1", "Кеды"))).pk)
    before = snapshot()
    offers = offers_xml(*(offer_xml("p1", "990.00", "3") for _ in range(50)))
    files = upload_archive({"offers.xml": offers}, lie=("offers.xml", declared))

    importer.apply_file(files["offers.xml"].pk)

    files["offers.xml"].refresh_from_db()
    assert files["offers.xml"].state == ExchangeFile.FAILED
    assert files["offers.xml"].error.startswith("offers.xml: файл в архиве «v8.zip» повреждён (")
    assert "Каталог на сайте не изменён" in files["offers.xml"].error
    assert snapshot() == before
