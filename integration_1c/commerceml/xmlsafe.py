"""
Safe, streaming access to the XML that 1C uploads.

The exchange URL accepts files from the network, so the parser must never resolve
entities, read a DTD or fetch anything: a file that declares a DTD or an entity is
refused before any of its content is read (XXE, "billion laughs"). Everything else
about real 1C files is tolerated: a UTF-8 byte order mark, windows-1251 named in the
XML declaration (or, without a declaration, bytes that are plainly not UTF-8), files
of hundreds of megabytes (``huge_tree``: libxml2's size limits would cut them).

Errors are :class:`CommerceMLError` with a message meant for the 1C operator, who sees
it after ``failure`` in the exchange log: it names the file and the line.
"""

import codecs
import os
import re
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from lxml import etree

#: How much of the beginning of a file may precede the root element. Real files have an
#: XML declaration and perhaps a comment; anything longer than this is not CommerceML.
PROLOG_LIMIT = 1024 * 1024
CHUNK_SIZE = 64 * 1024

_LXML_POSITION = re.compile(r",\s*line \d+, column \d+$")
_ENCODING_DECL = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _(message):
    """
    The reader's messages reach 1C's operator and the journal: English msgids, Russian
    in ``integration_1c/locale``. Outside a configured Django (a bare script using the
    reader) the English text is used as it is.
    """
    try:
        from django.utils.translation import gettext
    except ImportError:  # pragma: no cover - Django is always installed with the shop
        return message
    try:
        return gettext(message)
    except ImproperlyConfigured:
        return message


class CommerceMLError(Exception):
    """A file that cannot be read as CommerceML; the message is shown to the 1C operator."""


class UnsafeXMLError(CommerceMLError):
    """A file that declares a DTD or entities: refused unread, because of XXE and entity bombs."""


def display_name(source, name=""):
    """The name used in messages: the explicit ``name``, else the file's base name."""
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source)) or os.fspath(source)
    source_name = getattr(source, "name", None)
    if isinstance(source_name, (str, os.PathLike)):
        return os.path.basename(os.fspath(source_name)) or "the file"
    return "the file"


@contextmanager
def open_binary(source):
    """Yield a binary file object for a path or an already open binary file (left open)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield handle
    else:
        yield source


class _Prolog:
    """What the bytes before the root element told us."""

    ROOT = "root"  # the root element (or something lxml will judge) starts here
    MORE = "more"  # need more bytes to decide
    UNSAFE = "unsafe"  # <!DOCTYPE or <!ENTITY

    def __init__(self, data, final):
        self.data = data
        self.final = final
        self.declared_encoding = None
        self.has_bom = False
        #: Where the root element's ``<`` is in ``data`` (None: not found, or UTF-16).
        self.root_at = None
        self._shift = 0  # bytes of ``data`` before the text scanned (a UTF-8 BOM)
        self.status = self._scan()

    def _text(self):
        data = self.data
        if data.startswith(codecs.BOM_UTF8):
            self.has_bom = True
            self._shift = 3
            return data[3:].decode("latin-1")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            # lxml reads UTF-16 with a BOM; scan the same characters it will see.
            self.has_bom = True
            self._shift = None  # characters are not bytes here
            usable = len(data) - (len(data) % 2)
            return data[:usable].decode("utf-16", errors="replace")
        return data.decode("latin-1")

    def _scan(self):
        """
        Walk the prolog: declaration, comments, processing instructions, whitespace.
        Markup characters are ASCII in UTF-8 and windows-1251 alike, so latin-1 is a
        faithful view of them.
        """
        text = self._text()
        match = _ENCODING_DECL.match(text.lstrip("\ufeff"))
        if match:
            self.declared_encoding = match.group(1).lower()
        position, length = 0, len(text)
        while True:
            while position < length and text[position] in " \t\r\n\ufeff":
                position += 1
            if position >= length:
                return self.ROOT if self.final else self.MORE
            if text.startswith("<?", position):
                end = text.find("?>", position + 2)
                if end < 0:
                    return self.ROOT if self.final else self.MORE
                position = end + 2
                continue
            if text.startswith("<!--", position):
                end = text.find("-->", position + 4)
                if end < 0:
                    return self.ROOT if self.final else self.MORE
                position = end + 3
                continue
            if text.startswith("<!", position):
                head = text[position : position + 9].upper()
                if head.startswith(("<!DOCTYPE", "<!ENTITY")):
                    return self.UNSAFE
                if len(head) < 9 and not self.final:
                    return self.MORE
                # "<!DOC" split across chunks was handled above; anything else is a
                # syntax error that lxml reports with its line number.
                return self.ROOT
            if text.startswith("<", position) and length - position < 2 and not self.final:
                return self.MORE
            if text.startswith("<", position) and self._shift is not None:
                self.root_at = position + self._shift
            return self.ROOT


#: The root's start tag: its name, then attributes with quoted values (bytes: markup is
#: ASCII in UTF-8 and windows-1251 alike).
_START_TAG = re.compile(rb"<[^\s/>!?]+((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>")
_ATTRIBUTE = re.compile(rb"\s+([^\s=/>]+)\s*=\s*(?:\"[^\"]*\"|'[^']*')")


def without_default_namespace(data, root_at):
    """
    ``data`` with the root element's default namespace declaration (``xmlns="…"``, as
    1C writes ``urn:1C.ru:commerceml_2``) left out of its start tag, when that tag is
    whole in ``data``. The reader reads local names only (``reader`` module docstring),
    and lxml builds every tag it hands out as ``{namespace}name``: without the namespace
    a catalogue was read with 7–8% less CPU. Prefixed declarations (``xmlns:xsi``) and
    everything after the start tag stay as they are.
    """
    tag = _START_TAG.match(data, root_at) if root_at is not None else None
    if tag is None:
        return data
    attributes = tag.group(1)
    # A dropped declaration leaves its line breaks: errors keep the file's line numbers.
    kept = b"".join(
        attribute.group() if attribute.group(1) != b"xmlns" else b"\n" * attribute.group().count(b"\n")
        for attribute in _ATTRIBUTE.finditer(attributes)
    )
    if kept == attributes:
        return data
    start, end = tag.span(1)
    return data[:start] + kept + data[end:]


def _looks_like_utf8(data):
    """True if ``data`` (a prefix of a file, maybe cut mid-character) is valid UTF-8."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


class GuardedStream:
    """
    A read-only binary stream for lxml that first inspects the prolog.

    :meth:`inspect` reads up to the root element and raises :class:`UnsafeXMLError` on a
    DTD or entity declaration; then lxml reads the same bytes through :meth:`read`.
    The stream also counts the lines it has handed out, so a parse error on the last
    line of a file that has been read to its end can be reported as a cut upload.
    """

    def __init__(self, raw, label):
        self._raw = raw
        self._label = label
        self._pending = b""
        self.eof = False
        self.lines_read = 1
        self.encoding_override = None
        self.root = None

    def inspect(self, *, local_names=False):
        """
        Read and check the prolog; ``local_names``: the caller reads local names only, and
        the root's default namespace is left out (:func:`without_default_namespace`).
        """
        data = b""
        while True:
            chunk = self._raw.read(CHUNK_SIZE)
            if isinstance(chunk, str):
                raise TypeError(f"{self._label}: open CommerceML files in binary mode ('rb')")
            if not chunk:
                self.eof = True
            data += chunk
            prolog = _Prolog(data, final=self.eof)
            if prolog.status == _Prolog.UNSAFE:
                raise UnsafeXMLError(
                    _(
                        "%(file)s: contains a DTD or entity declaration (<!DOCTYPE>/<!ENTITY>); "
                        "refused for security (XXE). 1C never sends those — check where the file came from."
                    )
                    % {"file": self._label}
                )
            if prolog.status == _Prolog.ROOT:
                break
            if len(data) > PROLOG_LIMIT:
                raise CommerceMLError(
                    _("%(file)s: no XML element in the first %(size)s KB; this is not a CommerceML file.")
                    % {"file": self._label, "size": PROLOG_LIMIT // 1024}
                )
        if self.eof and not data.replace(codecs.BOM_UTF8, b"", 1).strip():
            raise CommerceMLError(empty_file(self._label))
        self._pending = without_default_namespace(data, prolog.root_at) if local_names else data
        if not prolog.has_bom and not prolog.declared_encoding and not _looks_like_utf8(data):
            # No declaration, no BOM and not UTF-8: an old 1C/Bitrix file in windows-1251.
            self.encoding_override = "windows-1251"
        return self

    def read(self, size=-1):
        if self._pending:
            if size is None or size < 0 or size >= len(self._pending):
                data, self._pending = self._pending, b""
            else:
                data, self._pending = self._pending[:size], self._pending[size:]
        elif self.eof:
            return b""
        else:
            data = self._raw.read(size if size and size > 0 else CHUNK_SIZE)
            if not data:
                self.eof = True
        self.lines_read += data.count(b"\n")
        return data


def parse_events(stream, label, tags=None):
    """
    Yield lxml ``(event, element)`` pairs ("start"/"end") from a :class:`GuardedStream`
    that has been inspected, translating parser errors into :class:`CommerceMLError`.

    ``tags``: local names to report (in any namespace or none); the others are still
    parsed into the tree, but libxml2 reports no event for them, so no Python code runs
    per field of an item. When no element matched at all, ``stream.root`` is set to the
    document's root once the file is parsed (the caller still wants to name it).
    """
    filtered = {} if tags is None else {"tag": ["{*}" + name for name in sorted(tags)]}
    events = etree.iterparse(
        stream,
        events=("start", "end"),
        **filtered,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
        encoding=stream.encoding_override,
    )
    checked = False
    try:
        for event, element in events:
            if not checked:
                checked = True
                _refuse_dtd(element, label)
            yield event, element
        if not checked and events.root is not None:
            _refuse_dtd(events.root, label)
            stream.root = events.root
    except etree.XMLSyntaxError as exc:
        # Only lxml raises these; the consumer's own errors never pass through here.
        raise syntax_error(exc, stream, label) from None


def _refuse_dtd(element, label):
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        # Belt and braces: the prolog scan should already have refused it.
        raise UnsafeXMLError(
            _("%(file)s: contains a DTD or entity declaration; refused for security (XXE).") % {"file": label}
        )


def syntax_error(exc, stream, label):
    """A readable :class:`CommerceMLError` for an lxml syntax error."""
    message = _LXML_POSITION.sub("", (exc.msg or str(exc)).strip())
    line = exc.lineno or 0
    lowered = message.lower()
    if lowered in ("no element found", "document is empty") or (line <= 1 and "document is empty" in lowered):
        return CommerceMLError(empty_file(label))
    if "extra content at the end" in lowered or "declaration allowed only at the start" in lowered:
        return CommerceMLError(
            _(
                "%(file)s: more data follows the end of the XML document (line %(line)s) — "
                "was the file uploaded twice or appended to?"
            )
            % {"file": label, "line": line}
        )
    at_end = stream.eof and line >= stream.lines_read
    if "premature end of data" in lowered or (
        at_end and "mismatch" not in lowered and "extra content" not in lowered
    ):
        return CommerceMLError(
            _("%(file)s: the file ends in the middle of the XML (line %(line)s) — was the upload cut short?")
            % {"file": label, "line": line}
        )
    if "encoding" in lowered or "invalid bytes" in lowered or "not proper utf-8" in lowered:
        return CommerceMLError(
            _(
                "%(file)s: the text at line %(line)s is not in the encoding the file declares "
                "(%(detail)s); 1C writes UTF-8 or windows-1251 with a matching XML declaration."
            )
            % {"file": label, "line": line, "detail": message}
        )
    return CommerceMLError(
        _("%(file)s: not well-formed XML at line %(line)s: %(detail)s")
        % {"file": label, "line": line, "detail": message}
    )


def empty_file(label):
    return _("%(file)s: the file is empty — was the upload cut short?") % {"file": label}
