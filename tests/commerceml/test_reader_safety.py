"""
The reader on hostile or broken input (XXE, entity bombs, cut uploads, not XML at all)
and on a file large enough to show that memory does not follow its size.
"""

import codecs
import io

import pytest

from integration_1c.commerceml import (
    CommerceMLError,
    CommerceMLReader,
    UnsafeXMLError,
    iter_records,
    read_document,
    records,
)

from .builders import CLASSIFIER, OFFERS, PRODUCTS, cml, cml_text, stream

SECRET = "TOP-SECRET-7f3a9c"


class CountingStream(io.BytesIO):
    """Records how many bytes the reader took, to show a refusal happens before the content."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def _refused(data, name="evil.xml"):
    with pytest.raises(UnsafeXMLError) as caught:
        for record in iter_records(stream(data), name=name):
            assert SECRET not in repr(record)
    message = str(caught.value)
    assert name in message
    assert "refused for security (XXE)" in message
    assert SECRET not in message
    return message


def test_external_entity_is_refused(secret_file):
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret_file}">]>\n'
        + cml_text(
            "<Классификатор><Ид>&e;</Ид><Наименование>&e;</Наименование></Классификатор>", declaration=False
        )
    ).encode()
    _refused(data)
    with pytest.raises(UnsafeXMLError):
        read_document(stream(data))


def test_external_entity_with_passwd_is_refused():
    data = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<x>&e;</x>'
    message = _refused(data)
    assert "root:" not in message


def test_billion_laughs_is_refused():
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{level} "{("&lol" + (str(level - 1) if level > 1 else "") + ";") * 10}">'
        for level in range(1, 10)
    )
    data = f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{entities}]>\n<КоммерческаяИнформация>&lol9;</КоммерческаяИнформация>'
    _refused(data.encode())


def test_doctype_without_entities_is_refused_too():
    _refused(b'<?xml version="1.0"?><!DOCTYPE html SYSTEM "http://example.com/x.dtd"><html/>')


def test_refused_before_the_content_is_read():
    data = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]>'
        + cml(OFFERS * 1)
        + b"<!--"
        + b"x" * 2_000_000
        + b"-->"
    )
    source = CountingStream(data)
    with pytest.raises(UnsafeXMLError):
        list(iter_records(source, name="offers.xml"))
    assert source.bytes_read < 100_000 < len(data)


@pytest.mark.parametrize(
    "prefix",
    [
        codecs.BOM_UTF8,
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- exported by 1C -->\n',
        # A long comment pushes the declaration across the reader's 64 KB chunks.
        b"<!--" + b"x" * (64 * 1024 - 7) + b"-->",
    ],
    ids=["after-bom", "after-comment", "across-chunks"],
)
def test_doctype_anywhere_in_the_prolog_is_refused(prefix):
    _refused(prefix + b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


def test_utf16_doctype_is_refused():
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'.encode("utf-16")
    _refused(data)


def test_a_cut_upload_names_the_file_and_the_line(tmp_path):
    data = cml(CLASSIFIER + PRODUCTS)
    cut = data[: len(data) * 2 // 3]
    path = tmp_path / "import0_1.xml"
    path.write_bytes(cut)
    with pytest.raises(CommerceMLError) as caught:
        list(iter_records(path))
    message = str(caught.value)
    assert message.startswith("import0_1.xml: the file ends in the middle of the XML (line ")
    assert "was the upload cut short?" in message
    last_line = cut.count(b"\n") + 1
    assert f"line {last_line})" in message


@pytest.mark.parametrize("cut_at", [0.1, 0.5, 0.9, 0.999])
def test_cut_anywhere_is_an_error_never_a_partial_success(cut_at):
    data = cml(OFFERS)
    with pytest.raises(CommerceMLError, match="offers.xml: .*cut short"):
        list(iter_records(stream(data[: int(len(data) * cut_at)]), name="offers.xml"))


def test_empty_file():
    with pytest.raises(CommerceMLError, match="offers.xml: the file is empty"):
        list(iter_records(stream(b""), name="offers.xml"))
    with pytest.raises(CommerceMLError, match="offers.xml: the file is empty"):
        read_document(stream(codecs.BOM_UTF8 + b"  \n"), name="offers.xml")


def test_not_well_formed_names_the_line():
    data = cml(PRODUCTS).replace("<Артикул>ART-1</Артикул>".encode(), "<Артикул>ART-1</Штрихкод>".encode())
    with pytest.raises(CommerceMLError) as caught:
        list(iter_records(stream(data), name="import.xml"))
    message = str(caught.value)
    assert message.startswith("import.xml: not well-formed XML at line ")
    assert "mismatch" in message


@pytest.mark.parametrize(
    "data, root",
    [
        (b"<html><body>502 Bad Gateway</body></html>", "<html>"),
        ('<?xml version="1.0"?><Документ><Ид>1</Ид></Документ>'.encode(), "<Документ>"),
    ],
)
def test_unknown_root_is_not_commerceml(data, root):
    with pytest.raises(CommerceMLError) as caught:
        read_document(stream(data), name="import.xml")
    assert str(caught.value).startswith("import.xml: not a CommerceML file")
    assert root in str(caught.value)


def test_text_that_is_not_xml():
    with pytest.raises(CommerceMLError, match="import.xml: not well-formed XML at line 1"):
        list(iter_records(stream(b"success\nsessid=1"), name="import.xml"))


def test_a_number_that_is_not_a_number_names_the_offer_and_line():
    data = cml(OFFERS).replace(
        "<ЦенаЗаЕдиницу>1500</ЦенаЗаЕдиницу>".encode(), "<ЦенаЗаЕдиницу>дорого</ЦенаЗаЕдиницу>".encode()
    )
    with pytest.raises(CommerceMLError) as caught:
        list(iter_records(stream(data), name="offers.xml"))
    message = str(caught.value)
    assert message.startswith("offers.xml, line ")
    assert "prod-1#char-1" in message and "«дорого» is not a number" in message


# -- streaming ---------------------------------------------------------------------------


def _big_catalogue(count):
    yield cml_text("", declaration=True).split("</КоммерческаяИнформация>")[0].encode()
    yield CLASSIFIER.encode()
    yield "<Каталог><Ид>cat</Ид><Наименование>Большой</Наименование><Товары>".encode()
    for number in range(count):
        yield (
            f"<Товар><Ид>p-{number}</Ид><Артикул>A{number}</Артикул><Наименование>Товар номер {number}</Наименование>"
            f'<БазоваяЕдиница Код="796 ">шт</БазоваяЕдиница><Группы><Ид>g-1</Ид></Группы>'
            f"<Описание>{'Описание товара. ' * 10}</Описание>"
            f"<ЗначенияСвойств><ЗначенияСвойства><Ид>p-weight</Ид><Значение>{number},5</Значение></ЗначенияСвойства>"
            f"</ЗначенияСвойств></Товар>"
        ).encode()
    yield "</Товары></Каталог></КоммерческаяИнформация>".encode()


def _big_offers(count):
    yield cml_text("", declaration=True).split("</КоммерческаяИнформация>")[0].encode()
    yield "<ПакетПредложений><Ид>c#</Ид><Наименование>П</Наименование><Предложения>".encode()
    for number in range(count):
        yield (
            f"<Предложение><Ид>p-{number}#c-{number}</Ид><Наименование>Товар {number}</Наименование>"
            f"<Цены><Цена><ИдТипаЦены>pt</ИдТипаЦены><ЦенаЗаЕдиницу>{number}.50</ЦенаЗаЕдиницу></Цена></Цены>"
            f'<Количество>3</Количество><Склад ИдСклада="wh-1" КоличествоНаСкладе="1"/>'
            f"<Остатки><Остаток><Склад><Ид>wh-2</Ид><Количество>2</Количество></Склад></Остаток></Остатки>"
            f"</Предложение>"
        ).encode()
    yield "</Предложения></ПакетПредложений></КоммерческаяИнформация>".encode()


@pytest.mark.parametrize(
    "chunks, record_type",
    [(_big_catalogue, records.Product), (_big_offers, records.Offer)],
    ids=["products", "offers"],
)
def test_memory_does_not_grow_with_the_file(chunks, record_type):
    """
    20,000 items (about 200,000 elements): while iterating, the partially built tree
    holds only what lxml has parsed ahead of the events (one 32 KB chunk), never the
    items already turned into records; at the end it is all but empty.
    """
    count = 20_000
    data = b"".join(chunks(count))
    assert len(data) > 4_000_000
    reader = CommerceMLReader(io.BytesIO(data), name="big.xml")
    seen = 0
    largest_tree = 0
    for record in reader:
        if isinstance(record, record_type):
            seen += 1
            if seen % 500 == 0:
                largest_tree = max(largest_tree, sum(1 for _ in reader.root.iter()))
    assert seen == count
    assert 0 < largest_tree < 2_000
    assert sum(1 for _ in reader.root.iter()) < 10


@pytest.mark.parametrize("tail", [b"garbage", None], ids=["garbage", "the-file-again"])
def test_content_after_the_document_is_an_error(tail):
    """A file uploaded twice into one (chunks appended again) must not pass as its first half."""
    data = cml(OFFERS)
    with pytest.raises(CommerceMLError, match="offers.xml: more data follows the end of the XML document"):
        list(iter_records(stream(data + (tail if tail is not None else data)), name="offers.xml"))
    # Trailing whitespace and comments are fine.
    assert len(list(iter_records(stream(data + b"\r\n<!-- 1C -->\n")))) == 10
