"""generate_exchange, demo_exchange and the benchmark's catalogue purge."""

import os
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from oscar.core.loading import get_model

from integration_1c.management.commands.bench_exchange import _delete_set_aside, _set_aside, purge_onec_catalogue

from .fakes import FakeExchangeServer, LiveFakeServer

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
Category = get_model("catalogue", "Category")
ProductCategory = get_model("catalogue", "ProductCategory")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")


def run(command, *args, **kwargs):
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_generate_exchange_command(tmp_path):
    output = run("generate_exchange", str(tmp_path), "--products", "15", "--schema", "3.1", "--seed", "4")
    assert sorted(p.name for p in tmp_path.glob("*.xml")) == [
        "import.xml",
        "offers.xml",
        "prices.xml",
        "rests.xml",
    ]
    assert "15 products" in output and "import.xml" in output


def test_generate_exchange_command_changes_only(tmp_path):
    output = run(
        "generate_exchange",
        str(tmp_path),
        "--products",
        "15",
        "--changes-only",
        "4",
        "--encoding",
        "windows-1251",
    )
    assert [p.name for p in tmp_path.glob("*.xml")] == ["offers.xml"]
    assert (tmp_path / "offers.xml").read_bytes().startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    assert "changes-only package" in output and "4 offers" in output


@pytest.mark.django_db  # the demo chooses its old-price type in the settings
def test_demo_exchange_drives_the_site_over_http():
    fake = FakeExchangeServer(
        username="1c", password="1c-exchange", zip=True, file_limit=64 * 1024, progress=1
    )
    with LiveFakeServer(fake) as live:
        output = run("demo_exchange", "--url", live.url, "--wait-for-server")
    modes = [r.mode for r in fake.requests]
    assert modes[:3] == ["checkauth", "checkauth", "init"]
    assert [r.filename for r in fake.requests if r.mode == "import"] == ["import.xml"] * 2 + [
        "offers.xml"
    ] * 2
    assert fake.requests[2].params["version"] == "2.08"
    assert "import.xml: success" in output and "offers.xml: success" in output


@pytest.mark.django_db  # the demo chooses its old-price type in the settings
def test_demo_exchange_explains_a_refused_login():
    fake = FakeExchangeServer(username="1c", password="other")
    with LiveFakeServer(fake) as live, pytest.raises(CommandError, match="setup_shop"):
        run("demo_exchange", "--url", live.url)


@pytest.mark.django_db
def test_demo_exchange_if_empty_leaves_a_filled_catalogue_alone():
    product_class = ProductClass.objects.create(name="Товар")
    Product.objects.create(product_class=product_class, title="Уже есть")
    # Port 9 (discard): nothing listens; the command must not even try.
    output = run("demo_exchange", "--url", "http://127.0.0.1:9", "--if-empty")
    assert "nothing sent" in output


@pytest.mark.django_db
def test_bench_starts_each_size_without_pictures_and_deletes_the_old_ones_at_the_end(tmp_path):
    media = tmp_path / "bench-media"
    (media / "images" / "abc").mkdir(parents=True)
    (media / "images" / "abc" / "drill.png").write_bytes(b"png")
    _set_aside(media)
    assert media.is_dir() and not any(media.iterdir())
    (old,) = tmp_path.glob(".bench-media.old-*")
    assert (old / "images" / "abc" / "drill.png").read_bytes() == b"png"
    _delete_set_aside(media)
    assert not list(tmp_path.glob(".bench-media.old-*")) and media.is_dir()


@pytest.mark.django_db
def test_purge_removes_only_what_came_from_1c():
    product_class = ProductClass.objects.create(name="Товар", track_stock=True)
    warehouse = Partner.objects.create(name="Основной склад", code="wh-1")
    onec_group = Category.objects.add_root(create_kwargs={"name": "Инструменты", "code": "g-1"})
    Category.objects.add_child(onec_group, create_kwargs={"name": "Дрели", "code": "g-2"})
    own_group = Category.objects.add_root(create_kwargs={"name": "Акции"})
    parent = Product.objects.create(
        product_class=product_class, title="Футболка", code="p-1", structure=Product.PARENT
    )
    child = Product.objects.create(parent=parent, title="Футболка M", code="p-1#c-1", structure=Product.CHILD)
    standalone = Product.objects.create(product_class=product_class, title="Дрель", code="p-2")
    ProductCategory.objects.create(product=standalone, category=onec_group)
    ProductCategory.objects.create(product=standalone, category=own_group)
    own = Product.objects.create(product_class=product_class, title="Подарочная карта")
    for product, sku in ((child, "p-1#c-1"), (standalone, "p-2"), (own, "gift")):
        StockRecord.objects.create(
            product=product, partner=warehouse, partner_sku=sku, price=Decimal(10), num_in_stock=3
        )
    PriceType = get_model("integration_1c", "PriceType")
    ProductPrice = get_model("integration_1c", "ProductPrice")
    retail = PriceType.objects.create(code="t-1", name="Розничная")
    ProductPrice.objects.create(product=standalone, price_type=retail, price=Decimal(10))

    assert purge_onec_catalogue() == 3

    assert list(Product.objects.values_list("title", flat=True)) == ["Подарочная карта"]
    assert list(StockRecord.objects.values_list("partner_sku", flat=True)) == ["gift"]
    assert not ProductPrice.objects.exists()
    assert list(Category.objects.values_list("name", flat=True)) == ["Акции"]
    assert Category.objects.get().numchild == 0
    assert PriceType.objects.exists() and Partner.objects.filter(code="wh-1").exists()


@pytest.mark.django_db
def test_the_bench_timeline_places_the_logins_upload_and_each_files_run_from_the_first_call():
    """Where an exchange's time went: what the benchmark prints beside its figures."""
    from datetime import datetime, timedelta, timezone

    from django.contrib.auth import get_user_model

    from integration_1c.management.commands.bench_exchange import BENCH_USER, _timeline
    from integration_1c.models import ExchangeFile, ExchangeSession

    origin = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)
    at = lambda seconds: origin + timedelta(seconds=seconds)  # noqa: E731
    user = get_user_model().objects.create_user(BENCH_USER, password="x")
    session = ExchangeSession.objects.create(user=user, exchange_type="catalog", token="t", folder="catalog/t")
    for name, kind, queued, started, finished in (
        ("v8.zip", "archive", 0.6, 0.7, 1.2),
        ("import.xml", "catalogue", 0.8, 1.3, 6.0),
        ("offers.xml", "offers", 0.8, 6.1, 9.5),
    ):
        ExchangeFile.objects.create(
            session=session, name=name, kind=kind, state=ExchangeFile.DONE,
            uploaded_at=at(queued), started_at=at(started), finished_at=at(finished),
        )  # fmt: skip
    start = origin.timestamp()
    calls = [
        (start, 0.3, "checkauth", ""),
        (start + 0.3, 0.1, "init", ""),
        (start + 0.4, 0.2, "file", "v8.zip"),
        (start + 6.0, 0.05, "import", "import.xml"),
        (start + 9.5, 0.1, "import", "offers.xml"),
    ]
    assert _timeline(calls) == (
        "logins 0.40 s; upload 0.4–0.6; v8.zip queued 0.6 ran 0.7–1.2; "
        "import.xml queued 0.8 ran 1.3–6.0, answered 6.0; offers.xml queued 0.8 ran 6.1–9.5, answered 9.6; end 9.6"
    )


def test_the_bench_counts_the_cpu_of_children_that_ended_and_describes_the_machines_load():
    """A reading process ends before the exchange does: its seconds still count, in its parent's."""
    import subprocess
    import sys

    from integration_1c.management.commands.bench_exchange import _cpu_spent, _describe_cpu, _tree_cpu

    before = _tree_cpu(os.getpid())
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
    assert _tree_cpu(os.getpid()) - before >= 0.3

    spent = _cpu_spent(
        {"worker": 1.0, "web": 0.5, "database": 2.0, "client": 0.0},
        {"worker": 4.0, "web": 0.75, "database": 3.0, "client": 0.25},
    )
    assert spent == {"worker": 3.0, "web": 0.25, "database": 1.0, "client": 0.25}
    described = _describe_cpu(spent, seconds=4.5)
    assert described.startswith("worker 3.00, web 0.25, database 1.00, client 0.25; 4.50 s in all, ")
    assert described.endswith(f"{4.5 / (4.5 * (os.cpu_count() or 1)):.0%} of {os.cpu_count() or 1} cores over the exchange")
    # A side not measured (a database on another machine) is left out, not counted as nothing.
    assert _cpu_spent({"worker": 1.0, "database": None}, {"worker": 2.0, "database": None}) == {"worker": 1.0}


@pytest.mark.django_db
def test_the_bench_finds_the_postgresql_it_measures_and_sees_its_work():
    from django.db import connection

    from integration_1c.management.commands.bench_exchange import _postmaster_pid, _tree_cpu

    postmaster = _postmaster_pid()
    assert postmaster is not None, "the tests' PostgreSQL runs on this machine (127.0.0.1)"
    before = _tree_cpu(postmaster)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, 4000000)")
    assert _tree_cpu(postmaster) - before >= 0.1
