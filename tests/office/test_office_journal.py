"""
The exchange journal: every run ends as «Завершён» or «Ошибка» (also 2.x clients that
never send ``complete``), a running import shows its figures, counts link to the
products, warnings are grouped, a failure tells the 1C operator what to do, one time zone.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from integration_1c import selectors
from integration_1c.admin.journal import failure_advice
from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.services import journal
from integration_1c.services.journal import ImportProgress

pytestmark = pytest.mark.django_db
Product = get_model("catalogue", "Product")


def make_session(user, minutes_quiet=10, **kwargs):
    now = timezone.now()
    return ExchangeSession.objects.create(
        exchange_type=kwargs.pop("exchange_type", ExchangeSession.CATALOG),
        user=user,
        token=kwargs.pop("token", f"t{ExchangeSession.objects.count()}"),
        folder=kwargs.pop("folder", "catalog/x"),
        started_at=now - timedelta(minutes=minutes_quiet + 1),
        last_seen_at=now - timedelta(minutes=minutes_quiet),
        **kwargs,
    )


def add_file(session, name="import.xml", state=ExchangeFile.DONE, **kwargs):
    return ExchangeFile.objects.create(session=session, name=name, kind=kwargs.pop("kind", "catalogue"), state=state, **kwargs)


def test_a_quiet_session_whose_files_are_done_ends_complete(exchange_user, settings):
    session = make_session(exchange_user, minutes_quiet=6)
    add_file(session)
    add_file(session, name="import_files/a.jpg", kind="attachment", state=ExchangeFile.UPLOADING)

    assert journal.close_finished() == 1

    session.refresh_from_db()
    assert session.state == ExchangeSession.COMPLETE
    assert session.finished_at == session.last_seen_at
    assert session.get_state_display() == "Завершён"


def test_the_idle_delay_is_a_setting(exchange_user, settings):
    settings.ONEC_EXCHANGE_IDLE_MINUTES = 30
    session = make_session(exchange_user, minutes_quiet=6)
    add_file(session)

    assert journal.close_finished() == 0
    assert journal.close_finished(now=timezone.now() + timedelta(minutes=30)) == 1
    session.refresh_from_db()
    assert session.state == ExchangeSession.COMPLETE


def test_a_session_with_a_failed_file_ends_failed(exchange_user):
    session = make_session(exchange_user)
    add_file(session)
    add_file(session, name="offers.xml", kind="offers", state=ExchangeFile.FAILED, error="offers.xml: XML не закончен")

    journal.close_finished()

    session.refresh_from_db()
    assert (session.state, session.get_state_display()) == (ExchangeSession.FAILED, "Ошибка")


def test_an_xml_file_1c_never_asked_to_import_fails_the_session_with_a_reason(exchange_user):
    session = make_session(exchange_user)
    add_file(session, name="offers.xml", kind="", state=ExchangeFile.UPLOADING)

    journal.close_finished()

    session.refresh_from_db()
    assert session.state == ExchangeSession.FAILED
    assert "«offers.xml»" in session.messages[-1]["message"]
    assert "Запустите обмен" in session.messages[-1]["message"]


def test_a_session_still_importing_or_recently_called_stays_open(exchange_user):
    importing = make_session(exchange_user, minutes_quiet=60, token="a")
    add_file(importing, state=ExchangeFile.RUNNING)
    recent = make_session(exchange_user, minutes_quiet=1, token="b")
    add_file(recent)

    assert journal.close_finished() == 0
    assert set(ExchangeSession.objects.values_list("state", flat=True)) == {ExchangeSession.OPEN}


def test_the_next_checkauth_ends_the_earlier_cycle(exchange_user):
    from tests.protocol.conftest import OneC

    earlier = make_session(exchange_user, minutes_quiet=0, token="earlier")
    add_file(earlier)
    bare = make_session(exchange_user, minutes_quiet=0, token="bare", folder="")

    one_c = OneC()
    one_c.checkauth()

    earlier.refresh_from_db()
    bare.refresh_from_db()
    assert earlier.state == ExchangeSession.COMPLETE
    assert bare.state == ExchangeSession.OPEN  # left for drop_unused_checkauth_sessions


def test_the_beat_task_closes_finished_exchanges(exchange_user, settings):
    from integration_1c.journal_tasks import close_finished_exchanges

    session = make_session(exchange_user)
    add_file(session)

    assert close_finished_exchanges() == 1
    assert "exchange-journal-close" in settings.CELERY_BEAT_SCHEDULE
    session.refresh_from_db()
    assert session.state == ExchangeSession.COMPLETE


def test_opening_the_journal_ends_finished_exchanges(admin_client, exchange_user):
    session = make_session(exchange_user)
    add_file(session)

    response = admin_client.get(reverse("admin:integration_1c_exchangesession_changelist"))

    assert "Завершён" in response.content.decode()
    session.refresh_from_db()
    assert session.state == ExchangeSession.COMPLETE


def test_live_progress_reads_the_share_of_the_file_rate_and_time_left(exchange_user, tmp_path):
    session = make_session(exchange_user, minutes_quiet=0)
    exchange_file = add_file(session, state=ExchangeFile.RUNNING, size=1000, started_at=timezone.now())
    path = tmp_path / "import.xml"
    path.write_bytes(b"x" * 1000)
    progress = ImportProgress(exchange_file)
    with open(path, "rb") as fileobj:
        progress.watch(fileobj)
        fileobj.read(250)
        progress.started -= 10  # ten seconds into the import
        progress(500)

    figures = selectors.file_progress(exchange_file)

    assert figures["processed"] == 500
    assert figures["share"] == pytest.approx(0.25)
    assert figures["rate"] == pytest.approx(50, rel=0.1)
    assert figures["seconds_left"] == pytest.approx(30, rel=0.1)


def test_the_progress_json_and_the_page_show_the_running_file(admin_client, exchange_user):
    session = make_session(exchange_user, minutes_quiet=0)
    exchange_file = add_file(session, state=ExchangeFile.RUNNING, size=1000, started_at=timezone.now())
    cache.set(
        selectors.live_key(exchange_file.pk),
        {"processed": 1200, "bytes_read": 500, "size": 1000, "started": timezone.now().timestamp() - 4, "at": 0},
    )

    data = admin_client.get(reverse("admin:integration_1c_exchangesession_progress", args=[session.pk])).json()
    page = admin_client.get(reverse("admin:integration_1c_exchangesession_change", args=[session.pk])).content.decode()

    assert data["state"] == "open"
    (file_data,) = data["files"]
    assert file_data["percent"] == 50
    assert file_data["state_label"] == "Загружается в каталог"
    assert "обработано 1" in file_data["text"] and "прочитано 50% файла" in file_data["text"]
    assert "осталось около" in file_data["text"]
    assert 'data-file="%d"' % exchange_file.pk in page and "onec-live-note" in page


def test_counts_say_what_they_count_and_link_to_the_products(admin_client, exchange_user):
    session = make_session(exchange_user, minutes_quiet=0)
    start = timezone.now() - timedelta(minutes=1)
    old = Product.objects.create(title="Старый", code="old-1", is_public=False)
    Product.objects.filter(pk=old.pk).update(date_created=start - timedelta(days=1), date_updated=start - timedelta(days=1))
    new = Product.objects.create(title="Новый", code="new-1")
    changed = Product.objects.create(title="Изменённый", code="changed-1")
    Product.objects.filter(pk=changed.pk).update(date_created=start - timedelta(days=1))
    exchange_file = add_file(
        session, created=1, updated=1, hidden=1, hidden_products=[old.pk],
        started_at=start, finished_at=timezone.now() + timedelta(seconds=1),
    )  # fmt: skip

    assert list(selectors.file_products(exchange_file, "created")) == [new]
    assert list(selectors.file_products(exchange_file, "updated")) == [changed]
    assert list(selectors.file_products(exchange_file, "hidden")) == [old]

    page = admin_client.get(reverse("admin:integration_1c_exchangesession_change", args=[session.pk])).content.decode()
    assert "групп и товаров создано" in page and "групп и товаров скрыто" in page
    link = reverse("dashboard:catalogue-product-list") + f"?onec_file={exchange_file.pk}&amp;onec_change=hidden"
    assert link in page

    listed = admin_client.get(
        reverse("dashboard:catalogue-product-list"), {"onec_file": exchange_file.pk, "onec_change": "hidden"}
    )
    assert [product.pk for product in listed.context["products"].data] == [old.pk]
    assert "Товары, скрытые файлом «import.xml»" in listed.content.decode()


def test_the_importer_keeps_the_ids_of_products_a_full_package_hid(exchange_user):
    from integration_1c.services.report import ImportReport

    kept = Product.objects.create(title="Остался", code="k", is_public=True)
    report = ImportReport()
    report.remember_hidden(Product.objects.filter(pk=kept.pk))
    assert report.hidden_ids == [kept.pk]


def test_warnings_are_grouped_by_kind_with_examples():
    warnings = [f"import.xml: Товар «Стол {n}»: нет группы «Мебель»" for n in range(5)] + [
        "import.xml: Свойство «Цвет» не найдено"
    ]

    groups = selectors.grouped_warnings(warnings)

    assert groups[0]["count"] == 5 and len(groups[0]["examples"]) == 3
    assert groups[0]["kind"] == "Товар «…»: нет группы «…»"
    assert groups[1] == {"kind": "Свойство «…» не найдено", "count": 1, "examples": ["Свойство «Цвет» не найдено"]}


def test_a_failure_says_what_happened_and_what_to_do(admin_client, exchange_user):
    session = make_session(exchange_user, minutes_quiet=0)
    add_file(session, state=ExchangeFile.FAILED, error="import.xml: файл не найден в папке обмена на сайте")

    page = admin_client.get(reverse("admin:integration_1c_exchangesession_change", args=[session.pk])).content.decode()

    assert "Что случилось:" in page and "Что делать в 1С:" in page
    assert "Запустите обмен в 1С ещё раз" in page
    assert "администратору" in str(failure_advice("База: база данных отказала: duplicate key"))


def test_one_time_zone_the_title_shows_local_time(exchange_user, settings):
    settings.TIME_ZONE = "Asia/Almaty"
    session = make_session(exchange_user)
    session.started_at = datetime(2026, 3, 2, 8, 19, tzinfo=UTC)
    with timezone.override("Asia/Almaty"):
        assert str(session) == "Каталог 02.03.2026 13:19"
