"""
Every admin and dashboard page of ours, rendered as a manager sees it, must be in Russian:
the test reads the visible text (and the titles, placeholders and button captions) of each
page and fails on English words, naming the page and the words.
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
