"""
A 1C:Enterprise exchange client that speaks the protocol exactly as real 1C does
(``/work/shared/PROTOCOL.md``; the shop's copy of the rules is in the exchange view).

It exists to drive the shop the way production 1C drives it — in tests through
:class:`DjangoClientTransport`, in the demo and the benchmark over real HTTP through
:class:`HttpTransport` — and to catch the protocol bugs that real 1C only reports as
"unknown status": every answer's first line must be ``success``, ``progress`` or
``failure``, and anything else raises :class:`ProtocolError`.

What it does, like 1C:

* ``checkauth`` twice with HTTP Basic; afterwards every request carries only the cookie
  that checkauth returned (never the Basic header again, never a cookie the server set
  some other way) and ``sessid`` when one was given;
* ``init`` (with ``version`` for newer clients) and reads ``zip``, ``file_limit``,
  ``sessid`` and ``version`` from the answer;
* uploads raw POST bodies in chunks of ``file_limit``; with ``zip=yes`` one archive
  (``v8_….zip``) holding every XML file and ``import_files/…``;
* ``mode=import`` for each XML file in 1C's order, again and again while the answer is
  ``progress``;
* 3.x clients finish with ``deactivate&timestamp=…`` and ``complete``;
* orders: ``query``, ``success``, sending documents back, ``info``.
"""

from __future__ import annotations

import base64
import functools
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_EXCHANGE_PATH = "/1c/exchange/"
USER_AGENT = "1C+Enterprise/8.3"
STATUSES = ("success", "progress", "failure")
CATALOG, SALE = "catalog", "sale"


class ExchangeError(Exception):
    """Anything that stops an exchange."""


class ProtocolError(ExchangeError):
    """The server answered something 1C cannot understand: a bug in the server."""


class ExchangeFailed(ExchangeError):
    """The server answered ``failure``; ``reason`` is the text it gave 1C's operator."""

    def __init__(self, message, *, reason="", answer=None, result=None):
        super().__init__(message)
        self.reason = reason
        self.answer = answer
        self.result = result


class ExchangeTimeout(ExchangeError):
    """An import kept answering ``progress`` longer than the client's timeout."""


# --------------------------------------------------------------------------------------
# Transports: how a request reaches the site.
# --------------------------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    headers: dict
    body: bytes

    @property
    def content_type(self):
        return self.headers.get("content-type", "")

    @property
    def charset(self):
        """The charset named in Content-Type, or ``""``."""
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset":
                return value.strip().strip('"').lower()
        return ""


def _lower_headers(items):
    return {str(key).lower(): value for key, value in items}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """1C does not follow redirects: a redirect (to a login page, say) is a server bug."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpTransport:
    """
    Real HTTP with urllib. Cookies are not kept by a jar: the client sends exactly the
    cookie checkauth named, as 1C does. ``base_url`` may be the site root
    (``http://127.0.0.1:8000``: the exchange path is appended) or the full exchange URL.
    """

    def __init__(self, base_url, path=None, *, timeout=120):
        parsed = urllib.parse.urlsplit(base_url)
        if path is None:
            path = parsed.path if parsed.path not in ("", "/") else DEFAULT_EXCHANGE_PATH
        self.url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))
        self.timeout = timeout
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def request(self, method, params, *, body=None, headers=None):
        url = f"{self.url}?{urllib.parse.urlencode(params)}"
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=self.timeout) as response:
                return HttpResponse(
                    response.status, _lower_headers(response.headers.items()), response.read()
                )
        except urllib.error.HTTPError as error:
            # 1C reads the body of any status; so do we, and judge the body.
            return HttpResponse(error.code, _lower_headers(error.headers.items()), error.read())

    def __repr__(self):
        return f"HttpTransport({self.url!r})"


class DjangoClientTransport:
    """
    A ``django.test.Client``. The client's own cookie jar is bypassed (the Cookie header
    is always set explicitly), so a session cookie Django sets is not sent back unless
    checkauth named it — exactly what 1C does.
    """

    def __init__(self, client, path=DEFAULT_EXCHANGE_PATH):
        self.client = client
        self.path = path

    def request(self, method, params, *, body=None, headers=None):
        headers = dict(headers or {})
        extra = {"HTTP_COOKIE": headers.pop("Cookie", "")}
        content_type = headers.pop("Content-Type", "application/octet-stream")
        response = self.client.generic(
            method,
            f"{self.path}?{urllib.parse.urlencode(params)}",
            data=body or b"",
            content_type=content_type,
            headers=headers,
            **extra,
        )
        if getattr(response, "streaming", False):
            content = b"".join(response.streaming_content)
        else:
            content = response.content
        return HttpResponse(response.status_code, _lower_headers(response.headers.items()), content)

    def __repr__(self):
        return f"DjangoClientTransport({self.path!r})"


# --------------------------------------------------------------------------------------
# Answers and results.
# --------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One answer of the site, as 1C reads it."""

    exchange_type: str
    mode: str
    filename: str
    http_status: int
    status: str
    lines: list[str]

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def reason(self):
        """What follows the status line (a failure's explanation)."""
        return "\n".join(self.lines[1:]).strip()


@dataclass
class ExchangeResult:
    """What an exchange did: the final answer per file and every answer on the way."""

    exchange_type: str
    #: XML file name -> its final import answer (``success`` or ``failure``).
    files: dict = field(default_factory=dict)
    answers: list = field(default_factory=list)
    #: (uploaded name, bytes, chunks)
    uploads: list = field(default_factory=list)
    zip: bool = False
    file_limit: int = 0
    seconds: float = 0.0

    @property
    def ok(self):
        return all(answer.status == "success" for answer in self.files.values())

    @property
    def progress_answers(self):
        return sum(1 for answer in self.answers if answer.status == "progress")

    def failures(self):
        return {name: answer.reason for name, answer in self.files.items() if answer.status == "failure"}


class QueryAnswer(bytes):
    """The ``mode=query`` answer: the document's bytes, with the charset the site named."""

    charset: str = ""
    content_type: str = ""

    def text(self):
        """The document as text, decoded with the charset the site named (BOM removed)."""
        charset = self.charset or "utf-8"
        return bytes(self).decode("utf-8-sig" if charset.replace("_", "-") in ("utf-8", "utf8") else charset)


def _decode(body, charset):
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    for encoding in filter(None, (charset, "utf-8")):
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("windows-1251", "replace")


def _key_values(lines):
    values = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


# --------------------------------------------------------------------------------------
# The client.
# --------------------------------------------------------------------------------------


class OneCClient:
    """
    A 1C exchange client. ``version``: ``None`` for an old client (no ``version`` in
    init, no deactivate/complete), ``"2.08"`` or ``"3.1"``. ``per_file_cycle``: start a
    fresh checkauth → init → file → import cycle for every file (when not zipping), as
    many real clients do.
    """

    def __init__(
        self,
        transport,
        username,
        password,
        *,
        version=None,
        poll_interval=0.2,
        timeout=300,
        per_file_cycle=False,
        raise_on_failure=True,
        zip_name="v8_1065_3a.zip",
        user_agent=USER_AGENT,
        login_type=None,
    ):
        self.transport = transport
        self.username = username
        self.password = password
        self.version = version
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.per_file_cycle = per_file_cycle
        self.raise_on_failure = raise_on_failure
        self.zip_name = zip_name
        self.user_agent = user_agent
        #: A client that always logs in with this type (e.g. "sale") whatever it exchanges next.
        self.login_type = login_type
        self._reset()

    def _reset(self):
        self.cookie = ""
        self.sessid = ""
        self.timestamp = ""
        self.zip = False
        self.file_limit = 0
        self.server_version = ""
        self.session_type = None
        self._result = None

    # Requests ---------------------------------------------------------------------------

    @property
    def is_v3(self):
        return bool(self.version) and str(self.version).startswith("3")

    def _params(self, exchange_type, mode, **extra):
        params = {"type": exchange_type, "mode": mode}
        params.update({key: value for key, value in extra.items() if value not in (None, "")})
        if self.sessid and mode != "checkauth":
            params["sessid"] = self.sessid
        return params

    def _headers(self, *, basic=False, content_type=None):
        headers = {"User-Agent": self.user_agent}
        if basic:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        elif self.cookie:
            headers["Cookie"] = self.cookie
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _send(self, method, exchange_type, mode, *, filename="", body=None, basic=False, extra=None):
        params = self._params(exchange_type, mode, filename=filename, **(extra or {}))
        content_type = "application/octet-stream" if body is not None else None
        return self.transport.request(
            method, params, body=body, headers=self._headers(basic=basic, content_type=content_type)
        )

    def _answer(self, exchange_type, mode, response, filename=""):
        """Read a status answer; anything whose first line is not a status is a server bug."""
        text = _decode(response.body, response.charset)
        lines = [line.rstrip("\r") for line in text.split("\n")]
        status = lines[0].strip() if lines else ""
        if status not in STATUSES:
            shown = text[:300].strip() or "<empty body>"
            raise ProtocolError(
                f"type={exchange_type}&mode={mode}{'&filename=' + filename if filename else ''}: "
                f"HTTP {response.status}, first line must be success/progress/failure, got: {shown!r}"
            )
        answer = Answer(exchange_type, mode, filename, response.status, status, lines)
        if self._result is not None:
            self._result.answers.append(answer)
        return answer

    def _fail(self, answer, what):
        reason = answer.reason or "(no reason given)"
        raise ExchangeFailed(
            f"{what}: failure: {reason}", reason=answer.reason, answer=answer, result=self._result
        )

    # Protocol steps ---------------------------------------------------------------------

    def checkauth(self, exchange_type=CATALOG):
        """``mode=checkauth`` with HTTP Basic; keeps the cookie, sessid and timestamp."""
        exchange_type = self.login_type or exchange_type
        response = self._send("GET", exchange_type, "checkauth", basic=True)
        answer = self._answer(exchange_type, "checkauth", response)
        if answer.status != "success":
            self._fail(answer, "checkauth")
        lines = answer.lines
        if len(lines) < 3 or not lines[1].strip() or "=" in lines[1]:
            raise ProtocolError(
                f"type={exchange_type}&mode=checkauth: expected 'success', a cookie name and a cookie value "
                f"on separate lines, got {answer.text!r}"
            )
        self.cookie = f"{lines[1].strip()}={lines[2].strip()}"
        values = _key_values(lines[3:])
        self.sessid = values.get("sessid", "")
        self.timestamp = values.get("timestamp", "")
        return answer

    def init(self, exchange_type=CATALOG):
        """
        ``mode=init``. Its answer is ``zip=…`` / ``file_limit=…`` lines (1C does not require
        a status line here; a leading ``success`` is accepted, ``failure`` fails).
        """
        response = self._send("GET", exchange_type, "init", extra={"version": self.version})
        text = _decode(response.body, response.charset)
        lines = [line.rstrip("\r") for line in text.split("\n")]
        first = lines[0].strip() if lines else ""
        answer = Answer(
            exchange_type, "init", "", response.status, first if first in STATUSES else "success", lines
        )
        if self._result is not None:
            self._result.answers.append(answer)
        if first == "failure":
            self._fail(answer, "init")
        values = _key_values(lines)
        if "zip" not in values or "file_limit" not in values:
            raise ProtocolError(
                f"type={exchange_type}&mode=init: expected zip=yes|no and file_limit=<bytes> lines, got {text[:300]!r}"
            )
        self.zip = values["zip"].lower() == "yes"
        try:
            self.file_limit = int(values["file_limit"])
        except ValueError as error:
            raise ProtocolError(f"init: file_limit is not a number: {values['file_limit']!r}") from error
        if values.get("sessid"):
            self.sessid = values["sessid"]
        self.server_version = values.get("version", "")
        if self._result is not None:
            self._result.zip, self._result.file_limit = self.zip, self.file_limit
        return answer

    def begin(self, exchange_type=CATALOG, *, double_checkauth=True):
        """checkauth (twice, as 1C does at the start) and init."""
        self.checkauth(exchange_type)
        if double_checkauth:
            self.checkauth(exchange_type)
        self.init(exchange_type)
        self.session_type = exchange_type

    def upload(self, name, source, exchange_type=CATALOG):
        """
        ``mode=file&filename=name`` with raw POST bodies of at most ``file_limit`` bytes.
        ``source``: bytes or a path (read chunk by chunk, so big archives stay on disk).
        """
        limit = self.file_limit if self.file_limit > 0 else None
        chunks = 0
        size = 0
        for chunk in _chunks(source, limit):
            response = self._send("POST", exchange_type, "file", filename=name, body=chunk)
            answer = self._answer(exchange_type, "file", response, name)
            if answer.status != "success":
                self._fail(answer, f"upload of {name}")
            chunks += 1
            size += len(chunk)
        if self._result is not None:
            self._result.uploads.append((name, size, chunks))
        return chunks

    def import_file(self, name, exchange_type=CATALOG):
        """``mode=import&filename=name`` until ``success``/``failure``; returns the final answer."""
        deadline = time.monotonic() + self.timeout
        while True:
            response = self._send("GET", exchange_type, "import", filename=name)
            answer = self._answer(exchange_type, "import", response, name)
            if answer.status != "progress":
                if self._result is not None:
                    self._result.files[name] = answer
                if answer.status == "failure" and self.raise_on_failure:
                    self._fail(answer, f"import of {name}")
                return answer
            if time.monotonic() > deadline:
                raise ExchangeTimeout(f"import of {name}: still 'progress' after {self.timeout} s")
            time.sleep(self.poll_interval)

    def deactivate(self):
        """3.x: ``mode=deactivate&timestamp=<from checkauth>``."""
        response = self._send("GET", CATALOG, "deactivate", extra={"timestamp": self.timestamp})
        answer = self._answer(CATALOG, "deactivate", response)
        if answer.status != "success":
            self._fail(answer, "deactivate")
        return answer

    def complete(self):
        """3.x: ``mode=complete``, the exchange is over."""
        response = self._send("GET", CATALOG, "complete")
        answer = self._answer(CATALOG, "complete", response)
        if answer.status != "success":
            self._fail(answer, "complete")
        return answer

    # A whole catalogue exchange -----------------------------------------------------------

    def exchange_catalog(self, source, files=None, *, archive=None):
        """
        Send a catalogue package as 1C does. ``source``: a folder, or a
        :class:`~integration_1c.testing.generator.GeneratedExchange` (its folder and its
        file order). ``files``: the XML files in 1C's order (default: the generated order,
        or import*, offers*, prices*, rests* of the folder). Everything else under the
        folder (``import_files/…``) is sent too. ``archive``: a zip made beforehand with
        :func:`build_archive`, used when the site offers zip.
        """
        folder, xml_files = _package(source, files)
        # Listed when they are sent one by one or zipped here, not for an archive made
        # beforehand: the walk over a 100k catalogue's 118,000 pictures cost 4 s of CPU.
        attachments = functools.cache(lambda: _attachments(folder, xml_files))
        self._result = result = ExchangeResult(CATALOG)
        started = time.monotonic()
        try:
            self.begin(CATALOG)
            if self.zip:
                self._upload_archive(folder, xml_files, attachments, archive)
                for path in xml_files:
                    self.import_file(path.name)
            elif self.per_file_cycle:
                for index, path in enumerate(xml_files):
                    if index:
                        self.checkauth(CATALOG)
                        self.init(CATALOG)
                    self.upload(path.name, path)
                    if index == 0:
                        for relative in attachments():
                            self.upload(relative, folder / relative)
                    self.import_file(path.name)
            else:
                for index, path in enumerate(xml_files):
                    self.upload(path.name, path)
                    if index == 0:
                        for relative in attachments():
                            self.upload(relative, folder / relative)
                for path in xml_files:
                    self.import_file(path.name)
            if self.is_v3:
                self.deactivate()
                self.complete()
        finally:
            result.seconds = time.monotonic() - started
            self._result = None
            self.session_type = None
        return result

    def _upload_archive(self, folder, xml_files, attachments, archive):
        """``attachments``: a callable listing them (only called to zip them here)."""
        if archive is not None:
            self.upload(self.zip_name, Path(archive))
            return
        with tempfile.TemporaryDirectory(prefix="onec-zip-") as tmp:
            path = build_archive(folder, xml_files, Path(tmp) / self.zip_name, attachments=attachments())
            self.upload(self.zip_name, path)

    # Orders -----------------------------------------------------------------------------------

    def _ensure_sale(self):
        if self.session_type != SALE:
            self.begin(SALE)

    def query(self):
        """``type=sale&mode=query``: the orders document, as bytes with ``.charset``."""
        self._ensure_sale()
        response = self._send("GET", SALE, "query")
        head = _decode(response.body[:64], response.charset).lstrip()
        if head.startswith("failure"):
            self._fail(self._answer(SALE, "query", response), "query")
        if response.status != 200 or not head.startswith("<"):
            raise ProtocolError(
                f"type=sale&mode=query: HTTP {response.status}, expected a CommerceML document, got {head!r}"
            )
        answer = QueryAnswer(response.body)
        answer.charset = response.charset
        answer.content_type = response.content_type
        return answer

    def success(self):
        """``type=sale&mode=success``: 1C stored the last query answer."""
        self._ensure_sale()
        response = self._send("GET", SALE, "success")
        answer = self._answer(SALE, "success", response)
        if answer.status != "success":
            self._fail(answer, "sale success")
        return answer

    def send_documents(self, path, filename=None, *, import_after=True):
        """
        Send order documents back to the site: ``mode=file`` then (new clients)
        ``mode=import`` until success. Returns an :class:`ExchangeResult`.
        """
        path = Path(path)
        name = filename or path.name
        self._result = result = ExchangeResult(SALE)
        started = time.monotonic()
        try:
            self._ensure_sale()
            self.upload(name, path, SALE)
            if import_after:
                self.import_file(name, SALE)
        finally:
            result.seconds = time.monotonic() - started
            self._result = None
        return result

    def info(self):
        """``type=sale&mode=info``: the site's statuses, payment and delivery methods."""
        self._ensure_sale()
        response = self._send("GET", SALE, "info")
        head = _decode(response.body[:64], response.charset).lstrip()
        if head.startswith("failure"):
            self._fail(self._answer(SALE, "info", response), "info")
        if response.status != 200:
            raise ProtocolError(f"type=sale&mode=info: HTTP {response.status}: {head!r}")
        answer = QueryAnswer(response.body)
        answer.charset = response.charset
        answer.content_type = response.content_type
        return answer

    def exchange_orders(self, documents=None):
        """A whole orders exchange: checkauth ×2, init, query, success, then documents back."""
        self.session_type = None
        self.begin(SALE)
        answer = self.query()
        self.success()
        results = [self.send_documents(path) for path in (documents or [])]
        self.session_type = None
        return answer, results


# --------------------------------------------------------------------------------------
# Files.
# --------------------------------------------------------------------------------------

_KIND_ORDER = ("import", "offers", "prices", "rests")


def _package(source, files):
    if hasattr(source, "dir") and hasattr(source, "files"):
        folder = Path(source.dir)
        xml_files = [Path(path) for path in (files or source.files)]
    else:
        folder = Path(source)
        if files:
            xml_files = [path if Path(path).is_absolute() else folder / path for path in map(Path, files)]
        else:
            xml_files = sorted(
                folder.glob("*.xml"),
                key=lambda p: (
                    next((i for i, k in enumerate(_KIND_ORDER) if p.name.startswith(k)), 9),
                    p.name,
                ),
            )
    if not xml_files:
        raise ExchangeError(f"no XML files to send in {folder}")
    return folder, xml_files


def _attachments(folder, xml_files):
    """Every file under ``folder`` that is not one of the XML files, relative, with ``/``."""
    skip = {Path(path).resolve() for path in xml_files}
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.resolve() in skip or path.suffix == ".zip":
                continue
            found.append(path.relative_to(folder).as_posix())
    return sorted(found)


def build_archive(folder, xml_files, target, *, attachments=None):
    """The zip 1C sends when the site says ``zip=yes``: the XML files and ``import_files/…``."""
    folder = Path(folder)
    attachments = _attachments(folder, xml_files) if attachments is None else attachments
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in xml_files:
            archive.write(path, Path(path).name)
        for relative in attachments:
            archive.write(folder / relative, relative)
    return Path(target)


def _chunks(source, limit):
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not limit:
            yield data
            return
        for start in range(0, max(len(data), 1), limit):
            yield data[start : start + limit]
        return
    with open(source, "rb") as handle:
        first = True
        while True:
            chunk = handle.read(limit or -1)
            if not chunk and not first:
                return
            yield chunk
            first = False
            if not limit:
                return
