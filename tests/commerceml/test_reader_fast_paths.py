"""
The reader's fast path gives exactly the records of the straightforward one.

``CommerceMLReader`` asks libxml2 to report only structural elements (``STRUCTURAL_TAGS``)
and reads each item from its finished subtree; with ``reported_tags = None`` every
element is reported, as the reader did before the filter. Both must yield the same
records (and raise the same errors) for every file: generated packages of every schema
and encoding, and the odd shapes that exercise the paths the filter changes (children
without events before the header, unknown sections and wrappers, unknown roots).
"""

import io

import pytest

from integration_1c.commerceml import records
from integration_1c.commerceml.reader import CommerceMLError, CommerceMLReader, read_document
from integration_1c.testing.generator import generate_exchange

from .builders import CLASSIFIER, OFFERS, PRODUCTS, cml


class EveryEventReader(CommerceMLReader):
    reported_tags = None


def outcome(reader_class, data, name):
    """The records ``reader_class`` reads from ``data``, as reprs, or its error."""
    try:
        return [repr(record) for record in reader_class(io.BytesIO(data), name=name)]
    except CommerceMLError as exc:
        return ("error", type(exc).__name__, str(exc))


def read_both(data, name="file.xml"):
    """(records of the fast path, records of the straightforward path) as reprs, or the errors."""
    return [outcome(reader_class, data, name) for reader_class in (CommerceMLReader, EveryEventReader)]


@pytest.mark.parametrize(
    "options",
    [
        {"schema": "2.08"},
        {"schema": "3.1"},
        {"schema": "2.08", "encoding": "windows-1251"},
        {"schema": "3.1", "changes_only": True, "changed_offers": 40},
        {"schema": "2.08", "changes_only": True, "changed_offers": 40},
    ],
    ids=["2.08", "3.1", "windows-1251", "3.1-changes", "2.08-changes"],
)
def test_generated_packages_read_the_same(tmp_path, options):
    exchange = generate_exchange(tmp_path, products=120, images=False, seed=7, **options)
    assert exchange.files
    for path in exchange.files:
        fast, slow = read_both(path.read_bytes(), name=path.name)
        assert fast == slow, path.name
        assert len(fast) > 3


EDGE_CASES = {
    "classifier+products": CLASSIFIER + PRODUCTS,
    "offers": OFFERS,
    # A child without an event of its own before the header: the Document is due there.
    "unknown-child-before-header": OFFERS.replace(
        'СодержитТолькоИзменения="true">', 'СодержитТолькоИзменения="true"><Прочее>x</Прочее>', 1
    ),
    "unknown-section": "<Прочее><Товары><Товар><Ид>x</Ид><Наименование>n</Наименование></Товар>"
    "</Товары></Прочее>" + OFFERS,
    "unknown-wrapper": "<Каталог><Ид>c</Ид><Обёртка><Товары><Товар><Ид>x</Ид></Товар></Товары></Обёртка>"
    "<Товары><Товар><Ид>y</Ид><Наименование>Y</Наименование><Прочее><Товар><Ид>z</Ид></Товар></Прочее>"
    "</Товар></Товары></Каталог>",
    "offers-after-unknown": "<ПакетПредложений><Ид>o</Ид><Прочее/><Наименование>later</Наименование>"
    "<Предложения><Предложение><Ид>a</Ид><Количество>1</Количество></Предложение></Предложения>"
    "</ПакетПредложений>",
    "header-then-unknown-only": "<ПакетПредложений><Ид>o</Ид><Прочее/></ПакетПредложений>",
    "empty-root": "",
}


@pytest.mark.parametrize("body", list(EDGE_CASES.values()), ids=list(EDGE_CASES))
@pytest.mark.parametrize("ns", ["urn:1C.ru:commerceml_2", None], ids=["ns", "no-ns"])
def test_odd_shapes_read_the_same(body, ns):
    fast, slow = read_both(cml(body, ns=ns))
    assert fast == slow


def test_the_document_before_a_late_header_child():
    data = cml(EDGE_CASES["offers-after-unknown"])
    fast, _ = read_both(data)
    document = read_document(io.BytesIO(data))
    assert document.kind == records.OFFERS
    assert document.name == ""  # the header child after <Прочее/> comes too late, as before
    assert fast[0] == repr(document)


@pytest.mark.parametrize(
    "data",
    [
        '<?xml version="1.0" encoding="UTF-8"?><Unknown><Товар><Ид>x</Ид></Товар></Unknown>',
        '<?xml version="1.0" encoding="UTF-8"?><Unknown><a/></Unknown>',
        '<?xml version="1.0" encoding="UTF-8"?><Товар><Ид>x</Ид></Товар>',
    ],
    ids=["unknown-root-with-items", "unknown-root", "item-as-root"],
)
def test_an_unknown_root_is_refused_the_same(data):
    fast, slow = read_both(data.encode(), name="x.xml")
    assert fast == slow
    assert fast[0] == "error"
    assert "root element is <" in fast[2]


def test_only_structural_elements_reach_python(monkeypatch, tmp_path):
    """An offer of ~40 elements costs its own two events and those of its few fields named like structure."""
    from integration_1c.commerceml import reader as reader_module

    seen = []
    original = reader_module.parse_events

    def counting(stream, label, tags=None):
        for event in original(stream, label, tags):
            seen.append(event)
            yield event

    monkeypatch.setattr(reader_module, "parse_events", counting)
    offers = generate_exchange(tmp_path, products=50, images=False, seed=3).dir / "offers.xml"
    fast = list(CommerceMLReader(offers))
    fast_events = len(seen)
    seen.clear()
    every = list(EveryEventReader(offers))
    assert [repr(record) for record in fast] == [repr(record) for record in every]
    assert sum(isinstance(record, records.Offer) for record in fast) >= 50
    assert fast_events < len(seen) / 4


def read_with_and_without_the_namespace(data, name="file.xml"):
    """(records read as the reader does, records with the root's default namespace kept) as reprs, or the errors."""
    from unittest import mock

    from integration_1c.commerceml import xmlsafe

    dropped = outcome(CommerceMLReader, data, name)
    with mock.patch.object(xmlsafe, "without_default_namespace", lambda data, root_at: data):
        kept = outcome(CommerceMLReader, data, name)
    return dropped, kept


@pytest.mark.parametrize(
    "options",
    [{"schema": "2.08"}, {"schema": "3.1"}, {"schema": "2.08", "encoding": "windows-1251"}],
    ids=["2.08", "3.1", "windows-1251"],
)
def test_files_read_the_same_without_their_default_namespace(tmp_path, options):
    """The reader drops the root's ``xmlns="urn:1C.ru:commerceml_…"`` (less CPU): the records are those read with it."""
    exchange = generate_exchange(tmp_path, products=60, images=False, seed=11, **options)
    for path in exchange.files:
        data = path.read_bytes()
        assert b'xmlns="urn:1C.ru:commerceml_' in data[:2000]
        dropped, kept = read_with_and_without_the_namespace(data, name=path.name)
        assert dropped == kept, path.name
        assert len(dropped) > 3
        reader = CommerceMLReader(io.BytesIO(data), name=path.name)
        next(iter(reader))
        assert reader.root.tag == "КоммерческаяИнформация"  # lxml built no {namespace}name tags


@pytest.mark.parametrize("body", list(EDGE_CASES.values()), ids=list(EDGE_CASES))
def test_odd_shapes_read_the_same_without_their_default_namespace(body):
    dropped, kept = read_with_and_without_the_namespace(cml(body, ns="urn:1C.ru:commerceml_2"))
    assert dropped == kept


def test_real_files_read_the_same_without_their_default_namespace(samples_dir):
    paths = sorted(samples_dir.glob("**/*.xml"))
    assert paths
    for path in paths:
        dropped, kept = read_with_and_without_the_namespace(path.read_bytes(), name=path.name)
        assert dropped == kept, path


@pytest.mark.parametrize(
    ("prolog", "expected"),
    [
        (
            b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<K xmlns="urn:1C.ru:commerceml_2" '
            b'xmlns:xs="http://www.w3.org/2001/XMLSchema" V="2.08"><a/></K>',
            b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<K xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            b'V="2.08"><a/></K>',
        ),
        # A value that merely mentions xmlns, single quotes, spaces around "=": only the declaration goes.
        (b"<K V='a xmlns=\"b\"' xmlns = 'u'><a/></K>", b"<K V='a xmlns=\"b\"'><a/></K>"),
        # windows-1251 names; a prefixed root keeps its own declaration.
        ("<Корень xmlns=\"u\">".encode("cp1251") + b"</x>", "<Корень>".encode("cp1251") + b"</x>"),
        (b'<a:K xmlns="u" xmlns:a="v"><b/></a:K>', b'<a:K xmlns:a="v"><b/></a:K>'),
        # One attribute a line: the line breaks stay, so errors keep the file's line numbers.
        (b'<K\n  xmlns="u"\n  V="1">\n<b/></K>', b'<K\n\n  V="1">\n<b/></K>'),
        # Nothing to drop, or a start tag that is not whole in what the prolog read: as it is.
        (b'<K xmlns:a="v"><b/></K>', b'<K xmlns:a="v"><b/></K>'),
        (b'<K xmlns="u" V="', b'<K xmlns="u" V="'),
        ('\ufeff<K xmlns="u"/>'.encode("utf-16"), '\ufeff<K xmlns="u"/>'.encode("utf-16")),
    ],
    ids=["utf-8-bom", "quotes", "windows-1251", "prefixed-root", "lines", "nothing", "cut", "utf-16"],
)
def test_only_the_roots_default_namespace_declaration_is_left_out(prolog, expected):
    from integration_1c.commerceml.xmlsafe import GuardedStream

    stream = GuardedStream(io.BytesIO(prolog), "x.xml").inspect(local_names=True)
    assert stream.read() == expected


def test_a_broken_file_is_reported_at_its_own_line_without_its_default_namespace():
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация\n  xmlns="urn:1C.ru:commerceml_2"\n'
        '  ВерсияСхемы="2.08">\n<Каталог>\n<Ид>1</Ид>\n<Товары><Товар></Товары>\n</Каталог></КоммерческаяИнформация>\n'
    ).encode()
    dropped, kept = read_with_and_without_the_namespace(data)
    assert dropped == kept
    assert dropped[0] == "error" and "7" in dropped[2], dropped
