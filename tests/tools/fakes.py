"""
A tiny fake of the site's exchange endpoint, for testing the 1C client emulator without
the real view: it records every request and answers as the protocol says (or, when told
to, the way a buggy site would).
"""

import base64
import io
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from integration_1c.testing.emulator import HttpResponse

COOKIE_NAME = "onec_exchange"


@dataclass
class Request:
    method: str
    params: dict
    headers: dict
    body: bytes

    @property
    def mode(self):
        return self.params.get("mode")

    @property
    def filename(self):
        return self.params.get("filename", "")


@dataclass
class FakeExchangeServer:
    """Answers like the site. ``progress`` = how many times each import says progress first."""

    username: str = "1c"
    password: str = "secret"
    zip: bool = False
    file_limit: int = 1000
    progress: int = 0
    #: filename -> answer body to give on mode=import (e.g. "failure\nbad price type").
    import_answers: dict = field(default_factory=dict)
    #: mode -> raw body to answer instead (to simulate protocol bugs), with HTTP status.
    broken: dict = field(default_factory=dict)
    query_body: bytes = '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация/>'.encode()
    query_charset: str = "utf-8"
    requests: list = field(default_factory=list)
    uploads: dict = field(default_factory=dict)
    checkauth_count: int = 0

    def request(self, method, params, *, body=None, headers=None):
        headers = {key.lower(): value for key, value in (headers or {}).items()}
        self.requests.append(Request(method, dict(params), headers, body or b""))
        mode = params.get("mode")
        if mode in self.broken:
            status, text = self.broken[mode]
            return self._answer(text, status=status, content_type="text/html; charset=utf-8")
        if mode == "checkauth":
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if headers.get("authorization") != f"Basic {expected}":
                return self._answer("failure\nwrong login or password", status=401)
            self.checkauth_count += 1
            return self._answer(
                f"success\n{COOKIE_NAME}\ntoken-{self.checkauth_count}\nsessid=sess-{self.checkauth_count}\n"
                f"timestamp=1700000000"
            )
        if not self._authorised(headers):
            return self._answer("failure\nnot authorised", status=403)
        if mode == "init":
            lines = [f"zip={'yes' if self.zip else 'no'}", f"file_limit={self.file_limit}"]
            if params.get("version"):
                lines += [f"sessid=sess-{self.checkauth_count}", f"version={params['version']}"]
            return self._answer("\n".join(lines))
        if mode == "file":
            self.uploads.setdefault(params["filename"], bytearray()).extend(body or b"")
            return self._answer("success")
        if mode == "import":
            name = params["filename"]
            seen = sum(1 for r in self.requests if r.mode == "import" and r.filename == name)
            if seen <= self.progress:
                return self._answer(f"progress\n{name}: {seen} of {self.progress + 1}")
            return self._answer(self.import_answers.get(name, "success"))
        if mode in ("deactivate", "complete", "success"):
            return self._answer("success")
        if mode in ("query", "info"):
            return HttpResponse(
                200, {"content-type": f"application/xml; charset={self.query_charset}"}, self.query_body
            )
        return self._answer(f"failure\nunknown mode {mode}", status=400)

    def _authorised(self, headers):
        return headers.get("cookie") == f"{COOKIE_NAME}=token-{self.checkauth_count}"

    @staticmethod
    def _answer(text, status=200, content_type="text/plain; charset=utf-8"):
        return HttpResponse(status, {"content-type": content_type}, text.encode("utf-8"))

    # Helpers for assertions ---------------------------------------------------------------

    def modes(self):
        return [(r.mode, r.filename) if r.filename else r.mode for r in self.requests]

    def archive_names(self, name):
        with zipfile.ZipFile(io.BytesIO(bytes(self.uploads[name]))) as archive:
            return sorted(archive.namelist())


class LiveFakeServer:
    """The fake behind a real HTTP server on 127.0.0.1 (for HttpTransport and the commands)."""

    def __init__(self, fake, path="/1c/exchange/"):
        self.fake = fake
        self.path = path
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method):
                url = urllib.parse.urlsplit(self.path)
                if url.path != outer.path:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                params = dict(urllib.parse.parse_qsl(url.query))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                response = outer.fake.request(method, params, body=body, headers=dict(self.headers.items()))
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                # A Django-like session cookie the client must NOT send back.
                self.send_header("Set-Cookie", "sessionid=should-not-come-back; Path=/")
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
