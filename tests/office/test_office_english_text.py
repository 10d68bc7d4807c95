"""
Every admin and dashboard page a manager opens, rendered as a manager sees it, must be in
Russian: the test reads the visible text (and the titles, placeholders and button captions)
of each page and fails on English words, naming the page and the words. A second check
records every text the pages asked gettext for that no catalogue translates (Oscar's,
Django's and third-party strings included), so a missing translation is named even where
the page's own words are noisy.
"""

import re

import lxml.html
import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

#: Latin words that are fine on a Russian page: product names, technical names a manager
#: needs verbatim, e-mail addresses of the fixtures.
ALLOWED = {
    "django", "oscar", "english", "kzt", "xml", "zip", "json", "id", "ip", "email", "e-mail", "utf",
    "manager", "example", "com", "obmen", "pokupatel", "admin", "catalog", "office", "import", "offers",
    "commerceml", "free-shipping", "jpeg", "png", "svg", "pdf", "csv", "http", "https", "www", "sku",
    # Django's multiple-select hint («Удерживайте “Control“ (или “Command“ на Mac)»), Oscar's
    # field names that are names (UPC, URL, SEO, ISO 3166-1, SMS), the single sign-on hint.
    "control", "command", "mac", "upc", "url", "seo", "iso", "sms", "sso", "ldap", "user-agent", "accept",
    # A JSON field's empty value, Django's template-name example, map services.
    "null", "flatpages", "google", "yandex",
}  # fmt: skip

WORD = re.compile(r"(?<![\w@./:-])[A-Za-z][A-Za-z'-]{2,}(?![\w@.-])")
SKIPPED_TAGS = {"script", "style", "noscript", "code", "template"}


def visible_text(html):
    """What a person reads on the page: text outside scripts and <code>, and captions of controls."""
    tree = lxml.html.fromstring(html)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in SKIPPED_TAGS or element.get("hidden") is not None or element.get("type") == "hidden":
            element.drop_tree() if element.getparent() is not None else None
    parts = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.text:
            parts.append(element.text)
        if element.tail:
            parts.append(element.tail)
        # aria-label is left out: Oscar hard-codes English ones («Toggle navigation») in
        # every dashboard template; they are read by screen readers only.
        for attribute in ("title", "placeholder"):
            if element.get(attribute):
                parts.append(element.get(attribute))
        if element.tag == "input" and element.get("type") in ("submit", "button", "reset") and element.get("value"):
            parts.append(element.get("value"))
    return " ".join(parts)


def english_words(html):
    text = visible_text(html)
    words = {word for word in WORD.findall(text) if word.lower() not in ALLOWED}
    # UPPER_SNAKE names (setting keys) and mixed identifiers are technical, not interface text.
    return sorted(word for word in words if not re.fullmatch(r"[A-Z0-9_-]+", word) or len(word) <= 3)


def our_admin_pages(back_office):
    """Changelists and change forms of every model our apps register, and the settings pages."""
    pages = [reverse("admin:index"), reverse("admin:app_list", args=["integration_1c"])]
    objects = {
        "exchangesession": back_office["session"].pk,
        "orderexchange": back_office["order"].onec.pk,
        "pricetype": back_office["price_type"].pk,
    }
    pages.append(reverse("admin:order_order_changelist"))  # the order list the shop changed
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "integration_1c":
            continue
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:%s_%s_changelist" % info))
        pk = objects.get(model._meta.model_name)
        if pk is None:
            first = model._default_manager.order_by("pk").first()
            pk = first.pk if first is not None else None
        if pk is not None:
            pages.append(reverse("admin:%s_%s_change" % info, args=[pk]))
    pages.append(reverse("admin:constance_config_changelist"))
    return pages


def dashboard_pages(back_office):
    order = back_office["order"]
    return [
        reverse("dashboard:index"),
        reverse("dashboard:order-list"),
        reverse("dashboard:order-detail", kwargs={"number": order.number}),
        reverse("dashboard:catalogue-product-list"),
        reverse("dashboard:partner-list"),
    ]


def test_admin_pages_of_ours_have_no_english_text(manager_client, back_office):
    offenders = {}
    for url in our_admin_pages(back_office):
        response = manager_client.get(url)
        assert response.status_code == 200, url
        words = english_words(response.content.decode())
        if words:
            offenders[url] = words
    assert offenders == {}


def test_dashboard_pages_we_use_have_no_english_text(manager_client, back_office):
    offenders = {}
    for url in dashboard_pages(back_office):
        response = manager_client.get(url)
        assert response.status_code == 200, url
        words = english_words(response.content.decode())
        if words:
            offenders[url] = words
    assert offenders == {}


def test_the_check_itself_finds_english_and_ignores_code():
    html = "<html><body><p>Журнал обмена</p><button title='Make public'>Сделать</button><code>ONEC_PRICE_TYPE started</code></body></html>"
    assert english_words(html) == ["Make", "public"]
    assert english_words("<p>Started: 10:00</p><script>var started = 1;</script>") == ["Started"]



#: Admin pages that show stored data rather than interface text: the permission names
#: Django stores in English («Can add product»), the group «All Oscar Dashboard
#: Permissions» Oscar's migration creates, raw e-mails and request data, and Oscar's
#: models whose names are not translatable («<productcategory for product …>»).
DATA_PAGES = {
    ("auth", "user", "change"), ("auth", "group", "change"), ("auth", "group", "add"),
    ("auth", "user", "changelist"), ("auth", "group", "changelist"),
    ("axes", "accessattempt", "change"), ("axes", "accessfailurelog", "change"), ("axes", "accesslog", "change"),
    ("communication", "email", "change"), ("analytics", "userrecord", "change"),
    ("catalogue", "productcategory", "change"), ("catalogue", "productimage", "change"),
    ("basket", "basket", "change"), ("basket", "line", "change"), ("basket", "line", "changelist"),
    ("order", "order", "change"),
}  # fmt: skip


def every_admin_page(client):
    """The index, each app, and for every registered model its list, add form and first object."""
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if not hasattr(model, "_default_manager"):  # constance's settings page has no rows
            pages.append(("changelist", info, reverse("admin:%s_%s_changelist" % info)))
            continue
        pages.append(("changelist", info, reverse("admin:%s_%s_changelist" % info)))
        pages.append(("add", info, reverse("admin:%s_%s_add" % info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(("change", info, reverse("admin:%s_%s_change" % info, args=[first.pk])))
    return pages


@pytest.fixture
def untranslated(monkeypatch):
    """Texts gettext was asked for while the Russian pages were drawn and returned unchanged."""
    from django.utils.translation import _trans, get_language

    found = set()

    def recording(function, key):
        def wrapper(*args):
            result = function(*args)
            message = args[key]
            text = re.sub(r"%\(\w+\)\w|%\w", "", str(message))  # placeholders are not words
            english = re.search(r"[A-Za-z]{3}", text) and not re.search("[А-Яа-яЁё]", text)
            if get_language() == "ru" and result == message and english:
                found.add(str(message).strip() if key == 0 else f"[{args[0]}] {message}")
            return result

        return wrapper

    monkeypatch.setattr(_trans, "gettext", recording(_trans.gettext, 0))
    monkeypatch.setattr(_trans, "pgettext", recording(_trans.pgettext, 1))
    return found


def test_every_admin_section_is_in_russian(manager_client, back_office, untranslated):
    """All of /admin/, Oscar's and third-party models included (what a manager may open)."""
    offenders = {}
    for entry in every_admin_page(manager_client):
        if isinstance(entry, str):
            kind, info, url = "index", None, entry
        else:
            kind, info, url = entry
        response = manager_client.get(url)
        if response.status_code == 403:  # lists only (journal, prices): no add form
            continue
        assert response.status_code == 200, url
        if info and (*info, kind) in DATA_PAGES:
            continue
        words = english_words(response.content.decode())
        if words:
            offenders[url] = words
    assert offenders == {}
    assert sorted(untranslated) == []


def test_oscar_dashboard_main_pages_are_in_russian(manager_client, manager, back_office, untranslated):
    """The dashboard's menu pages and the pages a call centre opens from them."""
    product = back_office["product"]
    pages = dashboard_pages(back_office) + [
        reverse("dashboard:catalogue-product", kwargs={"pk": product.pk}),
        reverse("dashboard:catalogue-category-list"),
        reverse("dashboard:catalogue-class-list"),
        reverse("dashboard:catalogue-option-list"),
        reverse("dashboard:catalogue-attribute-option-group-list"),
        reverse("dashboard:stock-alert-list"),
        reverse("dashboard:users-index"),
        reverse("dashboard:user-detail", kwargs={"pk": manager.pk}),
        reverse("dashboard:order-stats"),
        reverse("dashboard:reports-index"),
        reverse("dashboard:offer-list"),
        reverse("dashboard:voucher-set-list"),
        reverse("dashboard:voucher-list") + "?in_set=false&has_offers=true",  # with the active filters' list
        reverse("dashboard:range-list"),
        reverse("dashboard:page-list"),
        reverse("dashboard:reviews-list"),
        reverse("dashboard:comms-list"),
    ]
    offenders = {}
    for url in pages:
        response = manager_client.get(url)
        assert response.status_code == 200, url
        words = english_words(response.content.decode())
        if words:
            offenders[url] = words
    assert offenders == {}
    assert sorted(untranslated) == []


def test_the_admin_is_headed_by_the_shop(manager_client):
    from constance import config

    config.SHOP_NAME = "Стройдом"
    page = manager_client.get(reverse("admin:index")).content.decode()
    assert "Стройдом — управление магазином</a>" in page
    assert "<title>Администрирование сайта | Стройдом — управление магазином</title>" in page
    assert "Django" not in visible_text(page)
