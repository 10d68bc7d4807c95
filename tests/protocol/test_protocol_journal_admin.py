"""The exchange journal in Django admin: readable by staff, never editable."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from integration_1c.models import ExchangeFile, ExchangeSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def journal(exchange_user):
    session = ExchangeSession.objects.create(
        exchange_type="catalog",
        user=exchange_user,
        token="t1",
        remote_addr="198.51.100.4",
        folder="catalog/x",
    )
    session.messages = [{"at": "2025-01-01T10:00:00", "mode": "import", "message": "Архив «v8.zip» отклонён"}]
    session.save()
    ExchangeFile.objects.create(
        session=session, name="import.xml", size=1024, kind="catalogue", state=ExchangeFile.DONE,
        created=5, updated=2, hidden=1, skipped=0, warnings=["Товар «Стол»: нет группы"],
    )  # fmt: skip
    ExchangeFile.objects.create(
        session=session,
        name="offers.xml",
        state=ExchangeFile.RUNNING,
        processed=1500,
        started_at=timezone.now(),
    )
    ExchangeFile.objects.create(
        session=session, name="broken.xml", state=ExchangeFile.FAILED, error="нет корня"
    )
    ExchangeFile.objects.create(session=session, name="import_files/a.jpg", kind="attachment")
    return session


def test_the_list_shows_type_state_user_address_and_file_counts(admin_client, journal):
    response = admin_client.get(reverse("admin:integration_1c_exchangesession_changelist"))

    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.files_total, row.files_failed) == (3, 1)
    content = response.content.decode()
    assert "198.51.100.4" in content and "obmen" in content


def test_the_list_filters_by_type_state_and_date(admin_client, journal):
    url = reverse("admin:integration_1c_exchangesession_changelist")

    assert admin_client.get(url, {"exchange_type__exact": "sale"}).context["cl"].result_count == 0
    assert admin_client.get(url, {"state__exact": "open"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"started_at__year": timezone.now().year}).context["cl"].result_count == 1


def test_a_session_shows_its_files_counts_warnings_errors_and_live_progress(admin_client, journal):
    response = admin_client.get(reverse("admin:integration_1c_exchangesession_change", args=[journal.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "import.xml" in content and "Товар «Стол»: нет группы" in content
    assert "нет корня" in content
    assert "обработано 1" in content and "500 записей" in content  # 1 500, grouped
    assert "import_files/a.jpg" not in content  # pictures are counted, not listed
    assert "Архив «v8.zip» отклонён" in content


def test_a_sessions_pictures_count_those_its_archives_left_packed(journal):
    """Pictures an archive left packed have no row each (``protocol.packed_index``): its row counts them."""
    from django.contrib import admin

    ExchangeFile.objects.create(
        session=journal, name="v8.zip", kind="archive", state=ExchangeFile.DONE, packed_members=117_776
    )

    assert admin.site._registry[ExchangeSession].attachments(journal) == 117_777  # and the picture sent alone


def test_the_journal_cannot_be_added_to_edited_or_deleted(admin_client, journal):
    change_url = reverse("admin:integration_1c_exchangesession_change", args=[journal.pk])

    assert admin_client.get(reverse("admin:integration_1c_exchangesession_add")).status_code == 403
    assert admin_client.post(change_url, {"state": "complete"}).status_code == 403
    assert (
        admin_client.get(
            reverse("admin:integration_1c_exchangesession_delete", args=[journal.pk])
        ).status_code
        == 403
    )
    journal.refresh_from_db()
    assert journal.state == ExchangeSession.OPEN


def test_staff_read_the_journal_with_the_view_permission_only(client, django_user_model, journal):
    staff = django_user_model.objects.create_user("manager", "m@example.com", "x", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:integration_1c_exchangesession_changelist")
    assert client.get(url).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_exchangesession"))

    assert client.get(url).status_code == 200
