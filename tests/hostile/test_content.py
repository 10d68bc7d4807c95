"""Hostile content in a catalogue file: scripts in descriptions, overlong names and text nodes."""

import time

import pytest
from django.test import Client
from oscar.core.loading import get_model

from integration_1c.models import ExchangeFile
from integration_1c.services import importer
from integration_1c.services.content import sanitise_description
from tests.protocol.conftest import OneC, _fast_password_hashing, text  # noqa: F401

from tests.processes import child_pids

from .cml import catalogue

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")

HOSTILE = (
    '<p onclick="steal()">Тёплая <b>куртка</b></p><script>alert(1)</script>'
    '<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">ссылка</a>'
    '<ul><li>пух</li></ul><table><tr><td colspan="2">размер</td></tr></table><style>body{}</style>'
)


def apply(tmp_path, content, name="import.xml"):
    path = tmp_path / name
    path.write_bytes(content)
    return importer.apply_path(path)


def requisite(name, value):
    return (
        f"<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>{name}</Наименование>"
        f"<Значение>{value}</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
    )


def test_scripts_and_handlers_are_removed_and_1c_formatting_kept(tmp_path, case):
    from xml.sax.saxutils import escape

    inner = f"<Описание>{escape(HOSTILE)}</Описание>" + requisite("ОписаниеВФорматеHTML", "true")
    apply(tmp_path, catalogue({"p-1": ("Куртка", inner)}))
    description = Product.objects.get(code="p-1").description
    for gone in ("<script", "alert", "onclick", "onerror", "javascript:", "<style"):
        assert gone not in description, description
    for kept in ("<p>Тёплая <b>куртка</b></p>", "<ul><li>пух</li></ul>", '<td colspan="2">', "ссылка"):
        assert kept in description, description


def test_a_plain_text_description_is_escaped_with_its_line_breaks():
    assert sanitise_description("Размер: 5 < 7\nЦвет: синий", is_html=False) == "Размер: 5 &lt; 7<br>\nЦвет: синий"
    assert "<script" not in sanitise_description("<script>alert(1)</script>текст", is_html=False)


def test_the_product_page_shows_no_script_from_1c(tmp_path):
    from xml.sax.saxutils import escape

    inner = f"<Описание>{escape(HOSTILE)}</Описание>"
    apply(tmp_path, catalogue({"p-1": ("Куртка", inner)}))
    product = Product.objects.get(code="p-1")
    page = Client().get(product.get_absolute_url(), follow=True)
    if page.status_code == 404:
        pytest.skip("the product page needs a price to be shown")
    body = page.content.decode()
    assert "alert(1)" not in body and "onerror" not in body and "<b>куртка</b>" in body


def test_names_longer_than_their_column_are_cut_with_a_warning(tmp_path):
    long_name = "Очень длинное наименование " * 20  # 540 characters
    extra = f"<Группы><Группа><Ид>g-1</Ид><Наименование>{long_name}</Наименование></Группа></Группы>"
    content = catalogue({"p-1": long_name})
    content = content.replace("</Классификатор>".encode(), f"{extra}</Классификатор>".encode(), 1)
    report = apply(tmp_path, content)
    assert len(Product.objects.get(code="p-1").title) == 255
    assert any("длиннее" in warning for warning in report.all_warnings()), report.all_warnings()


def test_a_text_node_over_the_limit_is_cut_with_a_warning(tmp_path, settings):
    settings.ONEC_MAX_TEXT_NODE = 10_000
    inner = "<Описание>" + "Ж" * 50_000 + "</Описание>"
    report = apply(tmp_path, catalogue({"p-1": ("Товар", inner), "p-2": "Второй"}))
    description = Product.objects.get(code="p-1").description
    assert 4000 < len(description) <= 5000  # 10,000 bytes of two-byte letters
    assert Product.objects.filter(code="p-2").exists()
    assert any("обрезан" in warning for warning in report.all_warnings()), report.all_warnings()


def _peak_rss_mb(pid):
    import pathlib

    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0


@pytest.mark.django_db(transaction=True)
def test_a_100_mb_description_keeps_the_worker_under_300_mb(exchange_user, start_worker, purged_queue, settings):
    settings.ONEC_FILE_LIMIT = 16 * 1024 * 1024
    worker = start_worker()
    children = child_pids(worker.popen.pid)
    assert children, "the worker's pool process"
    content = catalogue({"p-1": ("Товар", "<Описание>" + "Ж" * (50 * 1024 * 1024) + "</Описание>")})
    client = OneC()
    text(client.checkauth())
    text(client.init())
    client.send("import.xml", content, chunk_size=settings.ONEC_FILE_LIMIT)
    del content
    deadline = time.monotonic() + 120
    while (answer := text(client.import_("import.xml"))).startswith("progress") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer == "success", answer
    peak = max(_peak_rss_mb(child) for child in child_pids(worker.popen.pid))
    assert peak < 300, f"worker peak {peak:.0f} MB"
    assert len(Product.objects.get(code="p-1").description) <= 1024 * 1024
    assert any("обрезан" in w for w in ExchangeFile.objects.get(name="import.xml").warnings)
