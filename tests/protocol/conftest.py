"""
Fixtures of the protocol tests: a 1C client speaking to the exchange URL, exchange
users, and stand-ins for the services written elsewhere (importer, catalogue, orders).
"""

import base64
import importlib
import sys
import types
from urllib.parse import quote, urlencode

import pytest
from django.test import Client

from integration_1c.models import ExchangeFile
from integration_1c.protocol.uploads import open_exchange_file

from tests.conftest import EXCHANGE_PASSWORD as PASSWORD


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every checkauth checks a password: the production hasher would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def basic(username, password=PASSWORD):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


class OneC:
    """
    A 1C client: calls the exchange URL and, after checkauth, sends only the cookie
    named in the answer's body (never the Set-Cookie that Django's test client keeps).
    """

    def __init__(self, exchange_type="catalog", path="/1c/exchange/"):
        self.exchange_type = exchange_type
        self.path = path
        self.client = Client()
        self.cookie = None
        self.sessid = None
        self.timestamp = None

    def call(self, mode, body=None, extra=None, **params):
        query = {"type": self.exchange_type, "mode": mode, **params}
        url = self.path + "?" + urlencode(query, quote_via=quote, safe="/")
        if body is None:
            return self.client.get(url, **(extra or {}))
        return self.client.post(url, data=body, content_type="application/octet-stream", **(extra or {}))

    def checkauth(self, username="obmen", password=PASSWORD, header="HTTP_AUTHORIZATION"):
        response = self.call("checkauth", extra={header: basic(username, password)})
        lines = text(response).split("\n")
        if lines[0] == "success":
            self.cookie = (lines[1], lines[2])
            self.sessid = lines[3].removeprefix("sessid=")
            self.timestamp = lines[4].removeprefix("timestamp=")
            self.client.cookies.clear()
            self.client.cookies[lines[1]] = lines[2]
        return response

    def init(self, **params):
        return self.call("init", **params)

    def send(self, name, content, chunk_size=None):
        """mode=file, in chunks of ``chunk_size`` (one POST when None); the last answer."""
        chunk_size = chunk_size or max(len(content), 1)
        response = None
        for start in range(0, max(len(content), 1), chunk_size):
            response = self.call("file", body=content[start : start + chunk_size], filename=name)
            assert text(response) == "success", text(response)
        return response

    def import_(self, name):
        return self.call("import", filename=name)


def text(response):
    assert response.status_code == 200, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "text/plain; charset=utf-8", response["Content-Type"]
    return response.content.decode("utf-8")


@pytest.fixture
def onec(exchange_user):
    """A catalogue client already past checkauth and init."""
    client = OneC()
    assert text(client.checkauth()).startswith("success")
    assert text(client.init()).startswith("zip=")
    return client


@pytest.fixture
def sale_client(exchange_user):
    client = OneC("sale")
    assert text(client.checkauth()).startswith("success")
    assert text(client.init(version="2.08")).startswith("zip=")
    return client


def patch_service(monkeypatch, name, **functions):
    """
    Replace functions of ``integration_1c.services.<name>``: on the real module when it
    exists, else on a stand-in module registered for this test only.
    """
    module_name = f"integration_1c.services.{name}"
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        module = types.ModuleType(module_name)
        monkeypatch.setitem(sys.modules, module_name, module)
    for attribute, function in functions.items():
        monkeypatch.setattr(module, attribute, function, raising=False)
    return module


class FakeImporter:
    """
    Stands in for ``services.importer``: reads the stored file (so the test sees what
    the real importer would read) and fails the files whose content says FAIL.
    """

    def __init__(self):
        self.applied = []

    def apply_file(self, file_id):
        exchange_file = ExchangeFile.objects.select_related("session").get(pk=file_id)
        with open_exchange_file(exchange_file) as stored:
            content = stored.read()
        self.applied.append((exchange_file.name, content))
        if b"FAIL" in content:
            exchange_file.state = ExchangeFile.FAILED
            exchange_file.error = f"{exchange_file.name}: тип цен «Розничная» не найден"
        else:
            exchange_file.state = ExchangeFile.DONE
            exchange_file.processed = content.count(b"<")
        exchange_file.save()

    def read_progress(self, exchange_file):
        return exchange_file.processed


@pytest.fixture
def importer(monkeypatch):
    fake = FakeImporter()
    patch_service(monkeypatch, "importer", apply_file=fake.apply_file, read_progress=fake.read_progress)
    return fake


class Queue:
    """Tasks sent through ``shop.background.enqueue``, run on demand as a worker would."""

    def __init__(self):
        self.sent = []

    def __call__(self, task, *args, **kwargs):
        self.sent.append((task, args, kwargs))

    def names(self):
        return [task.name.rsplit(".", 1)[-1] for task, _args, _kwargs in self.sent]

    def run(self):
        while self.sent:
            task, args, kwargs = self.sent.pop(0)
            task.apply(args=args, kwargs=kwargs, throw=True)


@pytest.fixture
def queue(monkeypatch):
    from shop import background

    captured = Queue()
    monkeypatch.setattr(background, "enqueue", captured)
    return captured


@pytest.fixture(params=["filesystem", "memory"])
def any_storage(request, settings, tmp_path):
    """Run a test on a local file system and on a storage without paths (like S3)."""
    storages = dict(settings.STORAGES)
    if request.param == "memory":
        storages["exchange"] = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
    settings.STORAGES = storages
    return request.param
