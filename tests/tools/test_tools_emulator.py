"""The 1C client emulator speaks the protocol as real 1C does (against a recording fake site)."""

import importlib

import pytest

from integration_1c.testing.generator import generate_exchange
from integration_1c.testing.emulator import (
    DjangoClientTransport,
    ExchangeFailed,
    ExchangeTimeout,
    HttpTransport,
    OneCClient,
    ProtocolError,
)

from .fakes import COOKIE_NAME, FakeExchangeServer, LiveFakeServer


@pytest.fixture
def package(tmp_path):
    return generate_exchange(tmp_path / "package", products=12, seed=3)


def client_for(fake, **kwargs):
    kwargs.setdefault("poll_interval", 0)
    return OneCClient(fake, fake.username, fake.password, **kwargs)


def test_checkauth_twice_with_basic_then_only_the_cookie(package):
    fake = FakeExchangeServer()
    result = client_for(fake).exchange_catalog(package)

    assert result.ok
    assert [r.mode for r in fake.requests[:3]] == ["checkauth", "checkauth", "init"]
    for request in fake.requests[:2]:
        assert request.headers["authorization"].startswith("Basic ")
        assert "cookie" not in request.headers
    for request in fake.requests[2:]:
        assert "authorization" not in request.headers
        # The cookie of the LAST checkauth, and the sessid it gave.
        assert request.headers["cookie"] == f"{COOKIE_NAME}=token-2"
        assert request.params["sessid"] == "sess-2"
        assert request.headers["user-agent"].startswith("1C+Enterprise")


def test_uploads_raw_bodies_in_chunks_of_file_limit(package):
    fake = FakeExchangeServer(file_limit=4096)
    result = client_for(fake).exchange_catalog(package)

    for path in package.files:
        content = path.read_bytes()
        posts = [r for r in fake.requests if r.mode == "file" and r.filename == path.name]
        assert len(posts) == -(-len(content) // 4096) > 1
        assert all(r.method == "POST" and len(r.body) <= 4096 for r in posts)
        assert all(r.headers["content-type"] == "application/octet-stream" for r in posts)
        assert bytes(fake.uploads[path.name]) == content
    # Pictures are sent too, under their import_files/ paths.
    for image in package.images:
        assert bytes(fake.uploads[image]) == (package.dir / image).read_bytes()
    size = package.files[0].stat().st_size
    assert ("import.xml", size, -(-size // 4096)) in result.uploads


def test_sends_one_zip_when_the_site_offers_it(package):
    fake = FakeExchangeServer(zip=True, file_limit=2000)
    result = client_for(fake).exchange_catalog(package)

    uploaded = {r.filename for r in fake.requests if r.mode == "file"}
    assert uploaded == {"v8_1065_3a.zip"}
    assert fake.archive_names("v8_1065_3a.zip") == sorted(["import.xml", "offers.xml", *package.images])
    imports = [r.filename for r in fake.requests if r.mode == "import"]
    assert imports == ["import.xml", "offers.xml"]
    assert result.zip and list(result.files) == ["import.xml", "offers.xml"]


def test_an_archive_made_beforehand_is_sent_without_a_walk_over_the_pictures(package, tmp_path, monkeypatch):
    """The benchmark's 100k package: listing its 118,000 pictures again cost the client 4 s of CPU."""
    from integration_1c.testing import emulator

    archive = emulator.build_archive(package.dir, package.files, tmp_path / "made.zip")
    walks = []
    real = emulator._attachments
    monkeypatch.setattr(emulator, "_attachments", lambda *args: walks.append(args) or real(*args))
    fake = FakeExchangeServer(zip=True, file_limit=1 << 20)
    client_for(fake).exchange_catalog(package, archive=archive)

    assert walks == []
    assert fake.archive_names("v8_1065_3a.zip") == sorted(["import.xml", "offers.xml", *package.images])
    # Without an archive made beforehand the pictures are listed, once, to be zipped.
    client_for(FakeExchangeServer(zip=True, file_limit=1 << 20)).exchange_catalog(package)
    assert len(walks) == 1


def test_imports_in_order_and_polls_while_progress(package):
    fake = FakeExchangeServer(progress=3)
    result = client_for(fake).exchange_catalog(package)

    imports = [r.filename for r in fake.requests if r.mode == "import"]
    assert imports == ["import.xml"] * 4 + ["offers.xml"] * 4
    # Every file is uploaded before the first import.
    first_import = next(i for i, r in enumerate(fake.requests) if r.mode == "import")
    assert all(r.mode != "file" for r in fake.requests[first_import:])
    assert result.progress_answers == 6
    assert {name: answer.status for name, answer in result.files.items()} == {
        "import.xml": "success",
        "offers.xml": "success",
    }
    # Old clients (no version) neither send version nor deactivate/complete.
    assert "version" not in fake.requests[2].params
    assert not {"deactivate", "complete"} & {r.mode for r in fake.requests}


def test_version_3_deactivates_with_the_checkauth_timestamp_then_completes(tmp_path):
    package = generate_exchange(tmp_path / "p", products=8, schema="3.1", images=False)
    fake = FakeExchangeServer()
    client_for(fake, version="3.1").exchange_catalog(package)

    assert fake.requests[2].params["version"] == "3.1"
    imports = [r.filename for r in fake.requests if r.mode == "import"]
    assert imports == ["import.xml", "offers.xml", "prices.xml", "rests.xml"]
    assert [r.mode for r in fake.requests[-2:]] == ["deactivate", "complete"]
    assert fake.requests[-2].params["timestamp"] == "1700000000"


def test_failure_raises_with_the_reason(package):
    fake = FakeExchangeServer(
        import_answers={"offers.xml": "failure\noffers.xml: price type 'Розничная' is not known"}
    )
    with pytest.raises(ExchangeFailed) as caught:
        client_for(fake).exchange_catalog(package)
    assert "price type 'Розничная' is not known" in str(caught.value)
    assert caught.value.reason == "offers.xml: price type 'Розничная' is not known"
    assert caught.value.answer.filename == "offers.xml"


def test_failure_can_be_recorded_and_the_next_file_sent(package):
    fake = FakeExchangeServer(import_answers={"import.xml": "failure\nbroken"})
    result = client_for(fake, raise_on_failure=False).exchange_catalog(package)
    assert result.failures() == {"import.xml": "broken"}
    assert result.files["offers.xml"].status == "success"
    assert not result.ok


@pytest.mark.parametrize(
    "mode, status, body",
    [
        ("import", 500, "<html><body>Server Error (500)</body></html>"),
        ("file", 200, "OK"),
        ("import", 200, ""),
        ("checkauth", 200, "success"),  # no cookie lines
    ],
)
def test_an_answer_that_is_not_a_protocol_status_is_a_server_bug(package, mode, status, body):
    fake = FakeExchangeServer(broken={mode: (status, body)})
    with pytest.raises(ProtocolError) as caught:
        client_for(fake).exchange_catalog(package)
    assert f"mode={mode}" in str(caught.value)


def test_init_without_zip_and_file_limit_is_a_protocol_error(package):
    fake = FakeExchangeServer(broken={"init": (200, "success")})
    with pytest.raises(ProtocolError, match="zip=yes"):
        client_for(fake).exchange_catalog(package)


def test_wrong_password_fails_at_checkauth(package):
    fake = FakeExchangeServer()
    client = OneCClient(fake, "1c", "wrong", poll_interval=0)
    with pytest.raises(ExchangeFailed, match="checkauth.*wrong login"):
        client.exchange_catalog(package)


def test_endless_progress_times_out(package):
    fake = FakeExchangeServer(progress=10**6)
    with pytest.raises(ExchangeTimeout):
        client_for(fake, timeout=0.05, poll_interval=0.01).exchange_catalog(package)


def test_per_file_cycle(package):
    fake = FakeExchangeServer(file_limit=10**7)
    client_for(fake, per_file_cycle=True).exchange_catalog(package)

    steps = [
        step for step in fake.modes() if not (isinstance(step, tuple) and step[1].startswith("import_files/"))
    ]
    assert steps == [
        "checkauth",
        "checkauth",
        "init",
        ("file", "import.xml"),
        ("import", "import.xml"),
        "checkauth",
        "init",
        ("file", "offers.xml"),
        ("import", "offers.xml"),
    ]
    # Pictures go with the first file's cycle, before it is imported.
    image_posts = [i for i, r in enumerate(fake.requests) if r.filename.startswith("import_files/")]
    assert image_posts and max(image_posts) < fake.modes().index(("import", "import.xml"))


def test_orders_query_success_and_documents(tmp_path):
    fake = FakeExchangeServer(
        query_body='<?xml version="1.0" encoding="windows-1251"?><Заказы/>'.encode("cp1251"),
        query_charset="windows-1251",
    )
    document = tmp_path / "orders-from-1c.xml"
    document.write_bytes(b"<x/>")
    client = client_for(fake)

    answer, results = client.exchange_orders([document])

    assert isinstance(answer, bytes) and answer.charset == "windows-1251"
    assert "<Заказы/>" in answer.text()
    assert [r.mode for r in fake.requests] == [
        "checkauth",
        "checkauth",
        "init",
        "query",
        "success",
        "file",
        "import",
    ]
    assert all(r.params["type"] == "sale" for r in fake.requests)
    assert fake.requests[5].filename == "orders-from-1c.xml" and fake.requests[5].method == "POST"
    assert results[0].ok


def test_query_that_is_not_a_document_is_a_protocol_error():
    fake = FakeExchangeServer(query_body=b"OK")
    with pytest.raises(ProtocolError, match="mode=query"):
        client_for(fake).query()


def test_http_transport_over_a_real_socket(package):
    """urllib: Basic only on checkauth, then only the checkauth cookie (not the Set-Cookie one)."""
    fake = FakeExchangeServer(zip=True, file_limit=3000, progress=1)
    with LiveFakeServer(fake) as live:
        result = OneCClient(
            HttpTransport(live.url), "1c", "secret", version="2.08", poll_interval=0
        ).exchange_catalog(package)
    assert result.ok
    later = fake.requests[2:]
    assert all("authorization" not in r.headers for r in later)
    assert all(r.headers["cookie"] == f"{COOKIE_NAME}=token-2" for r in later)
    assert fake.archive_names("v8_1065_3a.zip") == sorted(["import.xml", "offers.xml", *package.images])
    assert [r.filename for r in fake.requests if r.mode == "import"] == ["import.xml"] * 2 + [
        "offers.xml"
    ] * 2


def test_http_transport_reads_the_body_of_an_error_status(package):
    fake = FakeExchangeServer(broken={"import": (500, "failure\ndatabase is down")})
    with LiveFakeServer(fake) as live:
        client = OneCClient(HttpTransport(live.url + "/1c/exchange/"), "1c", "secret", poll_interval=0)
        with pytest.raises(ExchangeFailed, match="database is down"):
            client.exchange_catalog(package)


@pytest.mark.urls("tests.tools.exchange_urls")
def test_django_client_transport_bypasses_the_cookie_jar(client, db, package):
    """The test Client would send back cookies it received; 1C sends only the checkauth one."""
    exchange_urls = importlib.import_module("tests.tools.exchange_urls")

    fake = exchange_urls.current["fake"] = FakeExchangeServer(file_limit=5000, progress=1)
    client.cookies["sessionid"] = "from-an-earlier-response"

    result = OneCClient(
        DjangoClientTransport(client), "1c", "secret", version="3.1", poll_interval=0
    ).exchange_catalog(package)

    assert result.ok
    assert all("cookie" not in r.headers for r in fake.requests[:2])
    assert all(r.headers["cookie"] == f"{COOKIE_NAME}=token-2" for r in fake.requests[2:])
    posts = [r for r in fake.requests if r.mode == "file"]
    assert posts and all(r.headers["content-type"] == "application/octet-stream" for r in posts)
    assert bytes(fake.uploads["offers.xml"]) == (package.dir / "offers.xml").read_bytes()
