"""
What the reader says reaches 1C's operator (``failure`` answers) and the journal: in
Russian, through gettext (English msgids, Russian in integration_1c/locale).
"""

import io

import pytest
from django.utils import translation

from integration_1c.commerceml.reader import CommerceMLError, iter_records

from . import cml


def error_of(data, name="import.xml"):
    with pytest.raises(CommerceMLError) as caught:
        list(iter_records(io.BytesIO(data), name=name))
    return str(caught.value)


@pytest.mark.parametrize("version", ["2.03", "2.08", "3.1"])
def test_a_cut_file_is_reported_in_russian_with_its_line(version):
    data = cml.ut10_catalogue(version)
    message = error_of(data[: len(data) // 2])
    assert message.startswith("import.xml: файл обрывается посреди XML, строка ")
    assert message.endswith("загрузка прервалась?")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "import.xml: файл пуст — загрузка прервалась?"),
        (b"<html><body>502</body></html>", "import.xml: это не файл CommerceML — корневой элемент <html>"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x/>', "import.xml: в файле есть объявление DTD"),
        (cml.ut10_catalogue() + b"<again/>", "import.xml: после конца XML-документа есть ещё данные"),
        (
            cml.document("<Каталог><Ид>1</Ид></Классификатор>"),
            "import.xml: ошибка в разметке XML, строка 2",
        ),
    ],
)
def test_file_errors_are_in_russian(data, expected):
    assert error_of(data).startswith(expected)


def test_a_bad_number_names_the_offer_in_russian():
    data = cml.document(cml.offers(cml.offer("tshirt#red-m", "дорого", 1)))
    message = error_of(data, "offers.xml")
    assert message.startswith("offers.xml, строка ")
    assert "предложение tshirt#red-m: ЦенаЗаЕдиницу: «дорого» — не число" in message


def test_an_english_back_office_reads_the_msgids():
    with translation.override("en"):
        assert error_of(b"").startswith("import.xml: the file is empty")


@pytest.mark.django_db
def test_the_journal_and_1c_get_the_russian_message(tmp_path):
    from integration_1c.services import importer
    from integration_1c.services.context import ImportFailed

    path = tmp_path / "import.xml"
    data = cml.ut10_catalogue("3.1")
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ImportFailed, match="файл обрывается посреди XML, строка"):
        importer.apply_path(path)
