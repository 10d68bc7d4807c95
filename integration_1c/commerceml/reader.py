"""
The streaming CommerceML reader: one 1C file in, a stream of plain records out.

``iter_records(path)`` yields a :class:`~.records.Document` first (what the file is),
then groups, properties, units, price types, warehouses, products and offers in the
order the file lists them. It never touches the database.

Why streaming: a full 1C catalogue is often hundreds of megabytes. The reader builds
one ``Товар``/``Предложение``/``Группа`` subtree at a time, turns it into a record and
frees it, so memory does not grow with the file.

Why local names only: the same elements come without a namespace (2.03/2.04), in
``urn:1C.ru:commerceml_2`` (2.05–2.10), ``urn:1C.ru:commerceml_210`` or
``urn:1C.ru:commerceml_3`` (3.1), and in whatever a third-party exporter invents. So
the root's default namespace is not even handed to lxml
(``xmlsafe.without_default_namespace``): the names it builds are shorter.

Why the kind is read from the content: names vary (``import0_1.xml``,
``offers___<guid>.xml``, ``rests___…``) and 1C-Bitrix split packages put the classifier
and even an empty ``Каталог`` header into files that hold no products.
"""

import logging
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from . import records
from .limits import TextNodeCap, text_cut_message, text_node_limit
from .xmlsafe import (
    CommerceMLError,
    GuardedStream,
    UnsafeXMLError,
    _,
    display_name,
    open_binary,
    parse_events,
)

__all__ = [
    "CommerceMLError",
    "CommerceMLReader",
    "UnsafeXMLError",
    "iter_records",
    "parse_decimal",
    "read_document",
    "split_offer_id",
]

logger = logging.getLogger(__name__)

ROOT = "КоммерческаяИнформация"
CLASSIFIER = "Классификатор"
CATALOGUE = "Каталог"
OFFERS = "ПакетПредложений"
OFFERS_CHANGES = "ИзмененияПакетаПредложений"
#: Children of the root that hold order documents (3.1 wraps each in a Контейнер).
ORDER_SECTIONS = frozenset({"Документ", "Контейнер"})
#: Sections that may also be a file's root: some exporters write a bare fragment.
FRAGMENT_ROOTS = frozenset({CLASSIFIER, CATALOGUE, OFFERS, OFFERS_CHANGES})
#: Children of Каталог / ПакетПредложений that describe the package itself; anything
#: else starts the content, so the Document must be known by then.
HEADER_CHILDREN = frozenset(
    {
        "Ид",
        "ИдКаталога",
        "ИдКлассификатора",
        "Наименование",
        "Владелец",
        "Описание",
        "ДействительноС",
        "ДействительноДо",
        "СодержитТолькоИзменения",
        "НомерВерсии",
        "ПометкаУдаления",
    }
)
PROPERTY_TAGS = frozenset({"Свойство", "СвойствоНоменклатуры"})  # the latter: 2.03–2.05
#: The only elements the parser reports (see ``CommerceMLReader._records``): the root,
#: the sections and their headers, the lists and their items, the classifier's trees.
#: The fields of an item (Ид, Цена, Склад…) are read from its finished subtree; those of
#: them that share a name with a structural element still come as events and are skipped
#: while their item is open.
STRUCTURAL_TAGS = frozenset(
    {
        ROOT,
        *FRAGMENT_ROOTS,
        *ORDER_SECTIONS,
        *HEADER_CHILDREN,
        *PROPERTY_TAGS,
        "Товары",
        "Товар",
        "Предложения",
        "Предложение",
        "ТипыЦен",
        "ТипЦены",
        "Склады",
        "Склад",
        "Группы",
        "Группа",
        "Свойства",
        "ЕдиницыИзмерения",
        "ЕдиницаИзмерения",
    }
)

VALUE_TYPES = {
    "строка": "string",
    "число": "number",
    "справочник": "reference",
    "дата": "date",
    "время": "date",
    "датавремя": "date",
    "булево": "boolean",
}
TRUE_WORDS = frozenset({"true", "1", "да", "yes", "истина"})
DELETED_STATUS = "удален"

#: Short names of the ОКЕИ units 1C sends most, for files that give only ``Код`` and a
#: full name (``<БазоваяЕдиница Код="796 " НаименованиеПолное="Штука">``).
OKEI_SHORT_NAMES = {
    "3": "мм",
    "4": "см",
    "6": "м",
    "18": "пог. м",
    "55": "м2",
    "111": "мл",
    "112": "л",
    "113": "м3",
    "163": "г",
    "166": "кг",
    "168": "т",
    "356": "ч",
    "625": "лист",
    "704": "набор",
    "715": "пар",
    "736": "рул",
    "778": "упак",
    "796": "шт",
    "798": "тыс. шт",
    "839": "компл",
    "868": "бут",
}

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009']+")
_UNIT_REFERENCE = re.compile(r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,})$")


#: Service properties that 1C's Bitrix exchange module and Bitrix's own exports put
#: among ЗначенияСвойств (Ид = the name); see ``_apply_service_properties``.
SERVICE_PROPERTIES = frozenset(
    {
        "CML2_ACTIVE",
        "CML2_SORT",
        "CML2_CODE",
        "CML2_ARTICLE",
        "CML2_BAR_CODE",
        "CML2_TRAITS",
        "CML2_TAXES",
        "CML2_BASE_UNIT",
        "CML2_MANUFACTURER",
        "CML2_PICTURES",
        "CML2_FILES",
        "CML2_LINK",
        "CML2_ATTRIBUTES",
        "CML2_PREVIEW_TEXT",
        "CML2_DETAIL_TEXT",
        "CML2_PREVIEW_PICTURE",
        "CML2_DETAIL_PICTURE",
        "CML2_ACTIVE_FROM",
        "CML2_ACTIVE_TO",
        "CML2_IS_GIFT",
    }
)


def is_service_property(property_id):
    """CML2_ACTIVE and its kind (also unknown future ``CML2_…`` names): not shop properties."""
    return bool(property_id) and property_id.strip().upper().startswith("CML2_")


_LOCAL_NAMES = {}


def local_name(tag):
    """``{urn:1C.ru:commerceml_2}Товар`` -> ``Товар`` (cached: a file repeats a few dozen tags)."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        if not isinstance(tag, str):
            return ""
        name = _LOCAL_NAMES[tag] = tag.rpartition("}")[2]
        if len(_LOCAL_NAMES) > 10_000:  # a hostile file with endless distinct tags
            _LOCAL_NAMES.clear()
    return name


def parse_decimal(text):
    """
    A 1C number as :class:`~decimal.Decimal`, or None for an empty value.

    1C writes "1719", "1 719,50" (with spaces or no-break spaces), "0,01"; other
    exporters "1,719.50". The last of ``,``/``.`` is the decimal separator.
    Raises ValueError for text that is not a number.
    """
    if text is None:
        return None
    if text.isdigit() and text.isascii():
        return Decimal(text)  # "1719", what 1C writes most: the same value, without the rewriting
    if "," not in text and text.isascii():
        # "1719.50", 1C's prices and quantities: Decimal reads it as it is (and strips the
        # ends); one with spaces or apostrophes inside goes the long way below.
        try:
            value = Decimal(text)
        except InvalidOperation:
            pass
        else:
            if not value.is_finite():
                raise ValueError(text)
            return value
    cleaned = _SPACES.sub("", text)
    if not cleaned:
        return None
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def parse_bool(text):
    """ПереключательТип: "true"/"false" (also 1/0, да/нет); None when empty."""
    if text is None or not text.strip():
        return None
    return text.strip().lower() in TRUE_WORDS


def parse_datetime(text):
    """ДатаФормирования: "2020-04-07T13:16:06" or "2008-03-28"; None when unreadable."""
    if not text:
        return None
    value = text.strip()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    for pattern in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y"):
        try:
            return datetime.strptime(value[:19], pattern)
        except ValueError:
            continue
    return None


def split_offer_id(raw):
    """
    Предложение Ид -> (offer id, product id, characteristic id or None).

    A variant's offer is ``<product guid>#<characteristic guid>``; ``guid#`` (an empty
    characteristic) means the product itself and is normalised to ``guid``, so that
    the stock record of a product without variants has the product's own Ид.
    """
    product_id, _, characteristic_id = (raw or "").strip().partition("#")
    product_id = product_id.strip()
    characteristic_id = characteristic_id.strip() or None
    offer_id = f"{product_id}#{characteristic_id}" if characteristic_id else product_id
    return offer_id, product_id, characteristic_id


def offer_field(offer_id, field):
    """"предложение <Ид>: Количество" — where a bad value is, for the operator."""
    return _("offer %(id)s: %(field)s") % {"id": offer_id, "field": field}


def no_content(label):
    return _("%(file)s: no CommerceML content found.") % {"file": label}


def _text(element):
    return (element.text or "").strip() if element is not None else ""


def _children(element):
    """
    Direct child elements with their local names (comments are removed by the parser).
    An item's readers list them once and look at the list: every walk over an element
    makes lxml build each child's proxy and tag string again.
    """
    names = _LOCAL_NAMES
    # lxml makes the tag's string anew at every read: once per child (a comprehension:
    # a fifth of the reader's time is spent here).
    return [
        (names.get(tag) or local_name(tag), child) for child in element if isinstance(tag := child.tag, str)
    ]


def _fields(element):
    """Local name -> the FIRST child of that name (what :func:`_child` finds), in one pass."""
    names = _LOCAL_NAMES
    fields = {}
    for child in element:
        tag = child.tag
        name = names.get(tag) or local_name(tag)
        if name not in fields:
            fields[name] = child
    return fields


def _child(element, name):
    # The hottest function of the reader (every field of every item): no generator,
    # the local-name cache read inline.
    names = _LOCAL_NAMES
    for child in element:
        tag = child.tag
        if (names.get(tag) or local_name(tag)) == name:
            return child
    return None


def _child_text(element, name):
    return _text(_child(element, name))


def _named_text(children, name):
    """:func:`_child_text` over an element's :func:`_children` listed already."""
    for child_name, child in children:
        if child_name == name:
            return (child.text or "").strip()
    return ""


def _is_deleted(element, children=None):
    """
    Статус="Удален" (attribute, 2.x), <Статус>Удален</Статус>, <ПометкаУдаления>true (3.1).
    ``children``: the element's :func:`_children`, when the caller has them already.
    """
    for attribute, value in element.attrib.items():
        if local_name(attribute) == "Статус" and value.strip().lower() == DELETED_STATUS:
            return True
    for name, child in _children(element) if children is None else children:
        if name == "Статус" and _text(child).lower() == DELETED_STATUS:
            return True
        if name == "ПометкаУдаления" and parse_bool(child.text):
            return True
    return False


def _attribute(element, name):
    value = element.get(name)  # without a namespace, as 1C writes them: no walk over the attributes
    if value is not None:
        return value
    for attribute, value in element.attrib.items():
        if local_name(attribute) == name:
            return value
    return None


def _normalise_code(code):
    code = (code or "").strip()
    return str(int(code)) if code.isdigit() else code


def _release(element):
    """Free a processed subtree and the already processed siblings before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _path(element):
    """Local names from the root down to ``element`` (its ancestors are in the tree)."""
    names = []
    node = element
    while node is not None:
        names.append(local_name(node.tag))
        node = node.getparent()
    names.reverse()
    return names


class CommerceMLReader:
    """
    Iterate over the records of one CommerceML file (see the module docstring).

    Use :func:`iter_records`; the class exists so that tests and diagnostics can look at
    ``root`` (the partially built tree) while iterating and check that it stays small.
    """

    #: The elements the parser reports; None reports every element (the straightforward
    #: path, which must read exactly the same records: tests/commerceml/test_reader_fast_paths.py).
    reported_tags = STRUCTURAL_TAGS

    def __init__(self, source, *, name="", document_only=False):
        self.source = source
        self.label = display_name(source, name)
        # Read here, where the reader is made: the records may be read in another thread
        # (services.importer reads ahead), which must not touch the settings' database.
        self.text_limit = text_node_limit()
        self.document_only = document_only
        self.root = None
        self.document = None
        self._pending = []  # records read before the Document's kind was known
        self._out = []
        self._stack = []  # local names from the root to the element of the current event
        self._item = None  # an item (Товар, Предложение…) whose fields' events are skipped
        self._section_depth = 2
        self._section = None  # local name of the current section (child of the root)
        self._main_section = None  # the Каталог / ПакетПредложений that decides the kind
        self._classifier_seen = False
        self._header = {}
        self._changes_only_attr = None
        self._classifier_changes_only = None
        self._groups = []  # frames of the Группа elements being read, outermost first
        self._top_group_position = 0
        self._units = {}  # Ид and Код -> Unit, for products of the same file

    # -- public --------------------------------------------------------------------------

    def __iter__(self):
        return self._records()

    def _records(self):
        with open_binary(self.source) as raw:
            raw = TextNodeCap(raw, self.text_limit, self._text_cut)  # memory bounded whatever the file
            stream = GuardedStream(raw, self.label).inspect(local_names=True)
            # Only structural elements are reported (STRUCTURAL_TAGS, filtered by libxml2):
            # an offer of ~40 elements costs two events, not eighty; the reader's logic
            # sees the same elements at the same depths as with every event, because
            # depths and paths are read from the tree, not counted from the events.
            for event, element in parse_events(stream, self.label, self.reported_tags):
                item = self._item
                if item is not None:
                    if element is not item:
                        continue  # a field of the open item: read with the whole item
                    self._item = None
                if event == "start":
                    stop = self._start(element)
                else:
                    stop = self._end(element)
                if self._out:
                    yield from self._out
                    self._out.clear()
                if stop or (self.document_only and self.document is not None):
                    return
            if self.root is None and stream.root is not None:
                self._start_root(stream.root, local_name(stream.root.tag))  # raises: not CommerceML
            if self.document is None:
                raise CommerceMLError(no_content(self.label))

    # -- emitting ------------------------------------------------------------------------

    def _text_cut(self, line):
        self._push(records.Notice(text_cut_message(self.label, line, self.text_limit)))

    def _push(self, record):
        if self.document_only:
            return
        if self.document is None:
            self._pending.append(record)
        else:
            self._out.append(record)

    def _emit_document(self, kind):
        if self.document is not None:
            return
        changes_only = self._changes_only_attr
        if changes_only is None:
            changes_only = self._classifier_changes_only
        if changes_only is None and kind == records.OFFERS_CHANGES:
            changes_only = True  # "Изменения пакета предложений" are changes by definition
        header = self._header
        self.document = records.Document(
            kind=kind,
            schema_version=self._schema_version,
            generated_at=self._generated_at,
            changes_only=changes_only if kind != records.ORDERS else None,
            catalogue_id=header.get("catalogue_id", ""),
            classifier_id=header.get("classifier_id", ""),
            name=header.get("name", ""),
        )
        self._out.append(self.document)
        self._out.extend(self._pending)
        self._pending.clear()

    def _error(self, element, message):
        line = getattr(element, "sourceline", None)
        where = _("%(file)s, line %(line)s") % {"file": self.label, "line": line} if line else self.label
        return CommerceMLError(f"{where}: {message}")

    def _decimal(self, element, text, what):
        """``what``: a field's description, or (offer Ид, field) for :func:`offer_field` (made on error)."""
        try:
            return parse_decimal(text)
        except ValueError:
            if isinstance(what, tuple):
                what = offer_field(*what)
            raise self._error(
                element, _("%(what)s: «%(value)s» is not a number") % {"what": what, "value": text.strip()}
            ) from None

    # -- events --------------------------------------------------------------------------

    def _locate(self, element):
        """The path and depth of ``element``; the section it is in (None above the sections)."""
        stack = self._stack = _path(element)
        depth = len(stack)
        if depth > 1:
            if self.root is None:
                # The root is not a structural element, so it had no event of its own.
                root = element.getroottree().getroot()
                self._start_root(root, local_name(root.tag))  # raises: not CommerceML
            section_depth = self._section_depth
            self._section = stack[section_depth - 1] if depth >= section_depth else None
        return stack, depth

    def _start(self, element):
        stack, depth = self._locate(element)
        name = stack[-1]
        section_depth = self._section_depth
        if depth > section_depth + 1 and self._section != CLASSIFIER:
            if depth == section_depth + 2:
                self._item = element  # a Товар/Предложение/…: read when it ends
            return False  # inside a Товар/Предложение: read when it ends
        if depth == 1:
            return self._start_root(element, name)
        if depth == section_depth:
            return self._start_section(element, name)
        if depth < section_depth:
            return False
        section = self._section
        if depth == section_depth + 1:
            self._content_started(element.itersiblings(preceding=True), section)
            if section == CATALOGUE and name == "Товары":
                self._emit_document(records.CATALOGUE)
            elif (
                section in (OFFERS, OFFERS_CHANGES)
                and section == self._main_section
                and name not in HEADER_CHILDREN
            ):
                self._emit_document(records.OFFERS if section == OFFERS else records.OFFERS_CHANGES)
        if section == CLASSIFIER and name == "Группа" and self._in_group_tree(depth):
            self._groups.append({"element": element, "emitted": False, "children": 0})
        elif section == CLASSIFIER and name == "Группы" and self._groups and self._stack[-2] == "Группа":
            # The nested Группы of a Группа: its Ид and Наименование are complete now,
            # so the parent goes out before any of its children.
            self._emit_group(self._groups[-1])
        return False

    def _start_root(self, element, name):
        self.root = element
        self._schema_version = (_attribute(element, "ВерсияСхемы") or "").strip()
        self._generated_at = parse_datetime(_attribute(element, "ДатаФормирования"))
        if name == ROOT:
            self._section_depth = 2
            return False
        if name in FRAGMENT_ROOTS:
            # A bare fragment (e.g. a classifier saved on its own): read it as the section.
            self._section_depth = 1
            return self._start_section(element, name)
        raise CommerceMLError(
            _("%(file)s: not a CommerceML file — the root element is <%(name)s>, expected <%(root)s> (line %(line)s).")
            % {"file": self.label, "name": name, "root": ROOT, "line": element.sourceline}
        )

    def _start_section(self, element, name):
        self._section = name
        if name in ORDER_SECTIONS:
            self._emit_document(records.ORDERS)
            return True  # the orders reader parses those documents
        changes_only = _attribute(element, "СодержитТолькоИзменения")
        if name == CLASSIFIER:
            self._classifier_seen = True
            self._classifier_changes_only = parse_bool(changes_only)
        elif name in (CATALOGUE, OFFERS, OFFERS_CHANGES) and self._main_section is None:
            self._main_section = name
            self._changes_only_attr = parse_bool(changes_only)
        return False

    def _content_started(self, siblings, section):
        """
        The Document of a ПакетПредложений is due at its first child that is not part of
        the header. Children that are not structural have no event: one among
        ``siblings`` (those before a child of the section that starts, or all children
        at the section's end) counts as it would have at its own start, before any
        later header child is read.
        """
        if self.document is None and section in (OFFERS, OFFERS_CHANGES) and section == self._main_section:
            for sibling in siblings:
                if local_name(sibling.tag) not in HEADER_CHILDREN:
                    self._emit_document(records.OFFERS if section == OFFERS else records.OFFERS_CHANGES)
                    return

    def _end(self, element):
        stack, depth = self._locate(element)
        if depth > self._section_depth + 2 and self._section != CLASSIFIER:
            return False  # a field of a Товар/Предложение: read with the whole item
        if depth == self._section_depth:
            self._content_started(iter(element), self._section)
        return self._dispatch_end(element, stack[-1], depth)

    def _dispatch_end(self, element, name, depth):
        section_depth = self._section_depth
        if depth == 1:
            if section_depth == 1:
                self._end_section(name)
            return self._end_root()
        if depth == section_depth:
            self._end_section(name)
            _release(element)
            return False
        if depth < section_depth:
            return False
        section = self._section
        path = self._stack
        if depth == section_depth + 1:
            self._read_header(section, name, element)
        if section == CLASSIFIER:
            self._end_in_classifier(element, name, depth, path)
        elif section == CATALOGUE:
            if name == "Товар" and depth == section_depth + 2 and path[-2] == "Товары":
                if not self.document_only:
                    self._push_product(element)
                _release(element)
        elif section in (OFFERS, OFFERS_CHANGES):
            parent = path[-2]
            if depth == section_depth + 2:
                if name == "Предложение" and parent == "Предложения":
                    if not self.document_only:
                        self._push_offer(element, section)
                    _release(element)
                elif name == "ТипЦены" and parent == "ТипыЦен":
                    self._push(self._price_type(element))
                    _release(element)
                elif name == "Склад" and parent == "Склады":
                    self._push(self._warehouse(element))
                    _release(element)
        return False

    def _end_in_classifier(self, element, name, depth, path):
        section_depth = self._section_depth
        if name == "Группа" and self._groups and self._groups[-1]["element"] is element:
            frame = self._groups.pop()
            self._emit_group(frame)
            _release(element)
            return
        if depth != section_depth + 2:
            return
        parent = path[-2]
        if name in PROPERTY_TAGS and parent == "Свойства":
            prop = self._property(element)
            if prop is not None:
                self._push(prop)
        elif name == "ТипЦены" and parent == "ТипыЦен":
            self._push(self._price_type(element))
        elif name == "Склад" and parent == "Склады":
            self._push(self._warehouse(element))
        elif name == "ЕдиницаИзмерения" and parent == "ЕдиницыИзмерения":
            unit = self._unit(element)
            if unit is not None:
                self._push(unit)
        else:
            return
        _release(element)

    def _read_header(self, section, name, element):
        """Ид / ИдКаталога / ИдКлассификатора / Наименование of a section, for the Document."""
        header = self._header
        if section == CLASSIFIER:
            if name == "Ид":
                header.setdefault("classifier_id", _text(element))
            elif name == "Наименование" and self._main_section is None:
                header.setdefault("name", _text(element))
            elif name == "СодержитТолькоИзменения":
                self._classifier_changes_only = parse_bool(element.text)
            return
        if section != self._main_section:
            return
        if (name == "Ид" and section == CATALOGUE) or name == "ИдКаталога":
            header["catalogue_id"] = _text(element)
        elif name == "ИдКлассификатора":
            header["classifier_id"] = _text(element)
        elif name == "Наименование":
            header["name"] = _text(element)
        elif name == "СодержитТолькоИзменения":
            # Some 2.0x exporters write it as a child element instead of an attribute.
            self._changes_only_attr = parse_bool(element.text)

    def _end_section(self, name):
        if name == CATALOGUE and self._main_section == CATALOGUE and self.document is None:
            # A Каталог header without Товары (1C-Bitrix split packages, 3.1
            # classifier.xml): the file describes the classifier only, never a full
            # product list that could hide products it does not mention.
            self._emit_document(records.CLASSIFIER)
        # A ПакетПредложений that ends before any content is only a header (1C-Bitrix
        # splits put the offers' Свойства into a Классификатор after it): decided at the
        # end of the file, see _end_root.
        self._section = None

    def _end_root(self):
        if self.document is None:
            if self._classifier_seen:
                self._emit_document(records.CLASSIFIER)
            elif self._main_section == OFFERS:
                self._emit_document(records.OFFERS)
            elif self._main_section == OFFERS_CHANGES:
                self._emit_document(records.OFFERS_CHANGES)
            else:
                # A root with no section at all: the empty order document 1C and
                # 1C-Bitrix send when there is nothing to report.
                self._emit_document(records.ORDERS)
        # Not a stop: the parser must still see the end of the file, so that a file
        # uploaded twice into one (content after the root) is an error, not half read.
        return False

    # -- groups --------------------------------------------------------------------------

    def _in_group_tree(self, depth):
        """Is the Группа just opened part of Классификатор/Группы/Группа(/Группы/Группа)*?"""
        relative = self._stack[self._section_depth : depth]
        if len(relative) % 2:
            return False
        return all(
            relative[index] == ("Группы" if index % 2 == 0 else "Группа") for index in range(len(relative))
        )

    def _emit_group(self, frame):
        if frame["emitted"]:
            return
        frame["emitted"] = True
        element = frame["element"]
        group_id = _child_text(element, "Ид")
        frame["id"] = group_id
        parent_frame = None
        for candidate in reversed(self._groups):
            if candidate is not frame:
                parent_frame = candidate
                break
        if parent_frame is None:
            position = self._top_group_position
            self._top_group_position += 1
        else:
            position = parent_frame["children"]
            parent_frame["children"] += 1
        if not group_id:
            logger.warning("%s, line %s: a Группа without Ид is skipped", self.label, element.sourceline)
            return
        self._push(
            records.Group(
                id=group_id,
                name=_child_text(element, "Наименование"),
                parent_id=(parent_frame.get("id") or None) if parent_frame else None,
                deleted=_is_deleted(element),
                position=position,
            )
        )

    # -- classifier records --------------------------------------------------------------

    def _property(self, element):
        if is_service_property(_child_text(element, "Ид")):
            return None  # declared by Bitrix's exports; its values are read as service data
        value_type_text = _child_text(element, "ТипЗначений")
        options = []
        variants = _child(element, "ВариантыЗначений")
        if variants is not None:
            for name, child in _children(variants):
                if name == "Справочник":
                    value = _child_text(child, "Значение")
                    option_id = _child_text(child, "ИдЗначения") or value
                    if option_id:
                        options.append((option_id, value))
                elif name == "Значение":
                    value = _text(child)
                    if value:
                        options.append((value, value))
        value_type = VALUE_TYPES.get(value_type_text.replace(" ", "").lower())
        if value_type is None:
            value_type = "reference" if not value_type_text and options else "string"
        return records.Property(
            id=_child_text(element, "Ид"),
            name=_child_text(element, "Наименование"),
            value_type=value_type,
            options=options,
            for_offers=bool(parse_bool(_child_text(element, "ДляПредложений"))),
        )

    def _price_type(self, element):
        tax_included = None
        tax = _child(element, "Налог")
        if tax is not None:
            tax_included = parse_bool(_child_text(tax, "УчтеноВСумме"))
        return records.PriceType(
            id=_child_text(element, "Ид"),
            name=_child_text(element, "Наименование"),
            currency=_child_text(element, "Валюта"),
            tax_included=tax_included,
        )

    def _warehouse(self, element):
        address = _child(element, "Адрес")
        return records.Warehouse(
            id=_child_text(element, "Ид"),
            name=_child_text(element, "Наименование"),
            address=_child_text(address, "Представление") if address is not None else "",
        )

    def _unit(self, element):
        unit = records.Unit(
            id=_child_text(element, "Ид"),
            code=_normalise_code(_child_text(element, "Код")),
            name=_child_text(element, "НаименованиеКраткое"),
            full_name=_child_text(element, "НаименованиеПолное"),
            international=_child_text(element, "МеждународноеСокращение"),
        )
        if not unit.id and not unit.code:
            return None
        for key in (unit.id, unit.code):
            if key:
                self._units[key] = unit
        return unit

    # -- products ------------------------------------------------------------------------

    def _push_product(self, element):
        children = _children(element)
        product_id = _named_text(children, "Ид")
        if not product_id:
            logger.warning(
                "%s, line %s: a Товар without Ид is skipped (name %r)",
                self.label,
                element.sourceline,
                _child_text(element, "Наименование"),
            )
            return
        # УТ 10.x sends each characteristic as a Товар "product#characteristic".
        item_id, base_id, characteristic_id = split_offer_id(product_id)
        product = records.Product(
            id=item_id,
            name="",
            product_id=base_id,
            characteristic_id=characteristic_id,
            deleted=_is_deleted(element, children),
        )
        service = {}
        file_descriptions = []
        for name, child in children:
            if name == "Наименование":
                product.name = _text(child)
            elif name == "Артикул":
                product.article = _text(child)
            elif name == "Штрихкод":
                product.barcode = _text(child)
            elif name == "Описание":
                product.description = "".join(child.itertext()).strip()
            elif name == "БазоваяЕдиница":
                product.unit_code, product.unit_name = self._base_unit(child)
            elif name == "Группы":
                product.group_ids.extend(
                    _text(group)
                    for group_name, group in _children(child)
                    if group_name == "Ид" and _text(group)
                )
            elif name == "Картинка":
                path = _text(child).replace("\\", "/")
                if path:
                    product.images.append(records.Image(path=path))
            elif name == "Изготовитель":
                product.manufacturer = _child_text(child, "Наименование") or _text(child)
            elif name == "ЗначенияСвойств":
                product.properties.extend(self._property_values(child, service))
            elif name == "СтавкиНалогов":
                for rate_name, rate in _children(child):
                    if rate_name == "СтавкаНалога":
                        product.tax_rates.append(
                            (_child_text(rate, "Наименование"), _child_text(rate, "Ставка"))
                        )
            elif name == "ЗначенияРеквизитов":
                for requisite_name, value in self._requisites(child):
                    if requisite_name == "ОписаниеФайла":
                        file_descriptions.append(value)
                    if requisite_name and requisite_name not in product.requisites:
                        product.requisites[requisite_name] = value
            elif name == "ХарактеристикиТовара":
                product.characteristics.extend(self._characteristics(child))
            elif name == "НомерВерсии":
                product.version = _text(child)
        self._caption_images(product.images, file_descriptions)
        if service:
            self._apply_service_properties(product, service)
        self._push(product)

    def _base_unit(self, element):
        """
        БазоваяЕдиница -> (code, short name). 2.0x: ``Код="796 "`` attributes and "шт" as
        text; 3.1: only a reference (``2009``) to a ЕдиницаИзмерения of the classifier.
        """
        code = _normalise_code(_attribute(element, "Код"))
        text = _text(element)
        short = (_attribute(element, "НаименованиеКраткое") or "").strip()
        full = (_attribute(element, "НаименованиеПолное") or "").strip()
        international = (_attribute(element, "МеждународноеСокращение") or "").strip()
        unit = None
        if text and not code and not full and _UNIT_REFERENCE.match(text):
            unit = self._units.get(text) or self._units.get(_normalise_code(text))
            if unit is not None:
                return unit.code or text, unit.name or unit.full_name
            return _normalise_code(text), ""
        if code and not text and not short:
            unit = self._units.get(code)
        name = (
            text
            or short
            or (unit.name if unit else "")
            or OKEI_SHORT_NAMES.get(code, "")
            or full
            or international
        )
        return code, name

    def _property_values(self, element, service=None):
        """
        ЗначенияСвойств/ЗначенияСвойства -> (property Ид, value) for every Значение.
        Service properties (``CML2_…``, see :data:`SERVICE_PROPERTIES`) go into
        ``service`` (Ид -> list of values) instead: they are not shown as properties.
        """
        values = []
        for name, item in _children(element):
            if name != "ЗначенияСвойства":
                continue
            fields = _children(item)
            property_id = _named_text(fields, "Ид")
            if not property_id:
                continue
            if is_service_property(property_id):
                if service is not None:
                    service.setdefault(property_id.upper(), []).extend(
                        _text(value) for value_name, value in fields if value_name == "Значение"
                    )
                continue
            found = False
            for value_name, value in fields:
                if value_name in ("Значение", "ИдЗначения"):
                    values.append((property_id, _text(value)))
                    found = True
            if not found:
                values.append((property_id, ""))
        return values

    def _apply_service_properties(self, record, service):
        """
        What the service properties say, onto a Product or Offer record: CML2_ACTIVE
        (false: hidden), CML2_SORT, CML2_ARTICLE / CML2_BAR_CODE (when the item has no
        Артикул / Штрихкод of its own), CML2_MANUFACTURER, CML2_TRAITS (requisites as
        ``name: value`` texts), CML2_PREVIEW_TEXT / CML2_DETAIL_TEXT (description),
        CML2_LINK (the product of an offer). Others (CML2_CODE, CML2_PICTURES,
        CML2_TAXES, …) are understood and carry nothing the shop needs.
        """

        def first(key):
            return next((value for value in service.get(key, ()) if value), "")

        active = first("CML2_ACTIVE")
        if active:
            record.active = parse_bool(active)
        sort = first("CML2_SORT")
        if sort:
            try:
                record.sort = int(parse_decimal(sort))
            except (ValueError, TypeError):
                logger.warning("%s: %s: CML2_SORT %r is not a number", self.label, record.id, sort)
        if not record.article and first("CML2_ARTICLE"):
            record.article = first("CML2_ARTICLE")
        if not record.barcode and first("CML2_BAR_CODE"):
            record.barcode = first("CML2_BAR_CODE")
        if isinstance(record, records.Product):
            if not record.manufacturer and first("CML2_MANUFACTURER"):
                record.manufacturer = first("CML2_MANUFACTURER")
            if not record.description:
                record.description = first("CML2_DETAIL_TEXT") or first("CML2_PREVIEW_TEXT")
            for trait in service.get("CML2_TRAITS", ()):
                trait_name, separator, value = trait.partition(":")
                if separator and trait_name.strip() and trait_name.strip() not in record.requisites:
                    record.requisites[trait_name.strip()] = value.strip()
        else:
            link = first("CML2_LINK")
            if link and record.characteristic_id is None and link != record.product_id:
                # Bitrix's exports: an offer with an Ид of its own, linked to its product.
                record.id, record.product_id, record.characteristic_id = split_offer_id(
                    f"{link}#{record.product_id}"
                )

    @staticmethod
    def _requisites(element):
        for name, item in _children(element):
            if name != "ЗначениеРеквизита":
                continue
            fields = _children(item)
            values = [_text(value) for value_name, value in fields if value_name == "Значение"]
            value = next((value for value in values if value), "")
            yield _named_text(fields, "Наименование"), value

    @staticmethod
    def _characteristics(element):
        return [
            (_child_text(item, "Наименование"), _child_text(item, "Значение"))
            for name, item in _children(element)
            if name == "ХарактеристикаТовара" and _child_text(item, "Наименование")
        ]

    @staticmethod
    def _caption_images(images, file_descriptions):
        """ОписаниеФайла "import_files/5c/x.jpg#Вид сбоку" gives the matching Картинка a caption."""
        if not images or not file_descriptions:
            return
        by_path = {image.path.lstrip("./"): image for image in images}
        by_base = {image.path.rsplit("/", 1)[-1]: image for image in images}
        for description in file_descriptions:
            path, separator, caption = description.partition("#")
            if not separator or not caption.strip():
                continue
            path = path.strip().replace("\\", "/")
            image = by_path.get(path.lstrip("./")) or by_base.get(path.rsplit("/", 1)[-1])
            if image is not None and not image.caption:
                image.caption = caption.strip()

    # -- offers --------------------------------------------------------------------------

    def _push_offer(self, element, section):
        children = _children(element)
        fields = dict(reversed(children))  # the first child of a name wins, as _child finds it
        raw_id = _text(fields.get("Ид"))
        characteristic = _text(fields.get("ИдХарактеристики"))  # ИзмененияПакетаПредложений
        if raw_id and characteristic and "#" not in raw_id:
            raw_id = f"{raw_id}#{characteristic}"
        offer_id, product_id, characteristic_id = split_offer_id(raw_id)
        if not product_id:
            logger.warning(
                "%s, line %s: a Предложение without Ид is skipped (name %r)",
                self.label,
                element.sourceline,
                _child_text(element, "Наименование"),
            )
            return
        offer = records.Offer(
            id=offer_id,
            product_id=product_id,
            characteristic_id=characteristic_id,
            deleted=_is_deleted(element, children),
        )
        service = {}
        stocks = []
        has_stocks = False
        rests_total = None
        for name, child in children:
            if name == "Наименование":
                offer.name = _text(child)
            elif name == "Артикул":
                offer.article = _text(child)
            elif name == "Штрихкод":
                offer.barcode = _text(child)
            elif name == "ХарактеристикиТовара":
                offer.characteristics.extend(self._characteristics(child))
            elif name == "ЗначенияСвойств":
                offer.properties.extend(self._property_values(child, service))
            elif name == "Цены":
                offer.prices = self._prices(child, offer_id)
            elif name == "Количество":
                offer.quantity = self._decimal(child, child.text, (offer_id, "Количество"))
            elif name in ("Склад", "Склады"):
                has_stocks = True
                stocks.extend(self._warehouse_stocks(child, offer_id))
            elif name == "Остатки":
                has_stocks_here, total = self._rests(child, offer_id, stocks)
                has_stocks = has_stocks or has_stocks_here
                if total is not None:
                    rests_total = total if rests_total is None else rests_total + total
            elif name == "НомерВерсии":
                offer.version = _text(child)
        if offer.quantity is None and rests_total is not None:
            offer.quantity = rests_total
        if has_stocks:
            offer.stocks = stocks
        if service:
            self._apply_service_properties(offer, service)
        self._push(offer)

    def _prices(self, element, offer_id):
        prices = []
        for name, item in _children(element):
            if name != "Цена":
                continue
            fields = _fields(item)
            price_type_id = _text(fields.get("ИдТипаЦены"))
            value_element = fields.get("ЦенаЗаЕдиницу")
            value = None
            if value_element is not None:
                value = self._decimal(value_element, value_element.text, (offer_id, "ЦенаЗаЕдиницу"))
            if not price_type_id or value is None:
                logger.warning(
                    "%s, line %s: offer %s: a Цена without ИдТипаЦены or ЦенаЗаЕдиницу is skipped",
                    self.label,
                    item.sourceline,
                    offer_id,
                )
                continue
            coefficient_element = fields.get("Коэффициент")
            coefficient = None
            if coefficient_element is not None:
                coefficient = self._decimal(
                    coefficient_element, coefficient_element.text, (offer_id, "Коэффициент")
                )
            prices.append(
                records.Price(
                    price_type_id=price_type_id,
                    value=value,
                    currency=_text(fields.get("Валюта")),
                    unit=_text(fields.get("Единица")),
                    coefficient=coefficient if coefficient is not None else Decimal(1),
                    presentation=_text(fields.get("Представление")),
                )
            )
        return prices

    def _warehouse_stocks(self, element, offer_id):
        """
        ``<Склад ИдСклада="…" КоличествоНаСкладе="…"/>`` (2.07–2.10; ``Склады`` in
        ИзмененияПакетаПредложений), or a ``Склады`` list of such elements.
        """
        warehouse_id = _attribute(element, "ИдСклада")
        if warehouse_id is not None:
            quantity = self._decimal(
                element, _attribute(element, "КоличествоНаСкладе"), (offer_id, "КоличествоНаСкладе")
            )
            return [(warehouse_id.strip(), quantity if quantity is not None else Decimal(0))]
        stocks = []
        for name, child in _children(element):
            if name == "Склад":
                stocks.extend(self._warehouse_stocks(child, offer_id))
        if not stocks and _child(element, "Ид") is not None:
            quantity = self._decimal(
                element, _child_text(element, "Количество"), (offer_id, "Количество")
            )
            stocks.append((_child_text(element, "Ид"), quantity if quantity is not None else Decimal(0)))
        return stocks

    def _rests(self, element, offer_id, stocks):
        """
        ``<Остатки><Остаток><Склад><Ид/><Количество/></Склад></Остаток></Остатки>``
        (2.09 split packages, 3.1); an Остаток with only a Количество is a total.
        Returns (whether any warehouse was named, the total or None).
        """
        has_stocks = False
        total = None
        for name, rest in _children(element):
            if name != "Остаток":
                continue
            for child_name, child in _children(rest):
                if child_name == "Склад":
                    warehouse_id = _child_text(child, "Ид") or (_attribute(child, "ИдСклада") or "").strip()
                    if not warehouse_id:
                        continue
                    quantity_text = _child_text(child, "Количество") or _attribute(
                        child, "КоличествоНаСкладе"
                    )
                    quantity = self._decimal(child, quantity_text, (offer_id, "Количество"))
                    stocks.append((warehouse_id, quantity if quantity is not None else Decimal(0)))
                    has_stocks = True
                elif child_name == "Количество":
                    quantity = self._decimal(child, child.text, (offer_id, "Количество"))
                    if quantity is not None:
                        total = quantity if total is None else total + quantity
        return has_stocks, total


def iter_records(source, *, name=""):
    """
    Stream the records of a CommerceML file: a :class:`~.records.Document` first, then
    Group (parents before children), Property, Unit, PriceType, Warehouse, Product and
    Offer records in document order. For an orders file only the Document is yielded.

    ``source`` is a path or a binary file object; ``name`` is used in error messages.
    Raises :class:`CommerceMLError` (or :class:`UnsafeXMLError`) with a message for
    the 1C operator.
    """
    return CommerceMLReader(source, name=name)._records()


def read_document(source, *, name=""):
    """The :class:`~.records.Document` of a file, reading only as far as its kind is known."""
    reader = CommerceMLReader(source, name=name, document_only=True)
    iterator = iter(reader)
    try:
        return next(iterator)
    except StopIteration:
        raise CommerceMLError(no_content(reader.label)) from None
    finally:
        iterator.close()
