"""The dashboard's menu leads to the admin pages a manager needs, to those the admin lets in."""

import lxml.html
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADMIN_ENTRIES = {
    "Фильтры": "/admin/search/filtersetting/",
    "Настройки магазина": "/admin/constance/config/",
    "Журнал обмена с 1С": "/admin/integration_1c/exchangesession/",
}


def menu(client):
    """{section: {entry: href}} of the dashboard's top menu."""
    tree = lxml.html.fromstring(client.get(reverse("dashboard:index")).content.decode())
    sections = {}
    for item in tree.xpath('//*[@id="bottom_nav_bar"]/ul/li'):
        title = " ".join(item.xpath(".//a")[0].text_content().split())
        entries = item.xpath('.//a[contains(concat(" ", @class, " "), " dropdown-item ")]')
        sections[title] = {" ".join(a.text_content().split()): a.get("href") for a in entries}
    return sections


def test_the_menu_leads_to_filters_settings_and_the_exchange_journal(manager_client):
    sections = menu(manager_client)

    assert sections["Каталог"]["Фильтры"] == ADMIN_ENTRIES["Фильтры"]
    assert sections["Настройки"] == {
        "Настройки магазина": ADMIN_ENTRIES["Настройки магазина"],
        "Журнал обмена с 1С": ADMIN_ENTRIES["Журнал обмена с 1С"],
    }
    for href in ADMIN_ENTRIES.values():
        assert manager_client.get(href).status_code == 200, href


def test_staff_without_admin_rights_see_no_admin_entries(client, django_user_model):
    """Oscar lets any staff user into the dashboard; the admin's pages need their permission."""
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.kz", "Parol-clerka-1", is_staff=True)
    client.force_login(clerk)
    sections = menu(client)
    assert "Настройки" not in sections
    assert "Фильтры" not in sections.get("Каталог", {})

    clerk.user_permissions.add(Permission.objects.get(codename="view_filtersetting"))
    clerk = django_user_model.objects.get(pk=clerk.pk)  # permissions are cached on the instance
    client.force_login(clerk)
    assert menu(client)["Каталог"]["Фильтры"] == ADMIN_ENTRIES["Фильтры"]
