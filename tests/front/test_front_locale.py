"""The Russian catalogues: complete, compiled, and the compiled files match their sources."""

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[2]
CATALOGUES = [REPO / "locale" / "ru" / "LC_MESSAGES", REPO / "locale" / "oscar" / "ru" / "LC_MESSAGES"]


def entries(po_path):
    with open(po_path, "rb") as handle:
        return [m for m in read_po(handle) if m.id]


@pytest.mark.parametrize("folder", CATALOGUES, ids=lambda p: str(p.relative_to(REPO)))
def test_catalogue_is_complete(folder):
    untranslated = [
        m.id for m in entries(folder / "django.po") if not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    assert untranslated == []


@pytest.mark.parametrize("folder", CATALOGUES, ids=lambda p: str(p.relative_to(REPO)))
def test_compiled_catalogue_matches_its_source(folder):
    """The committed .mo is what msgfmt makes of the .po (a machine without gettext uses it)."""
    with open(folder / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    for message in entries(folder / "django.po"):
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        key = f"{message.context}\x04{msgid}" if message.context else msgid
        if isinstance(message.string, str):
            assert compiled.get(key) == message.string, msgid
        else:
            assert [compiled.get((key, n)) for n in range(len(message.string))] == list(message.string), msgid


def test_project_msgids_are_english():
    """Msgids are English (a translator works from them); Russian lives in the msgstr."""
    russian = [
        m.id
        for m in entries(CATALOGUES[0] / "django.po")
        if re.search("[А-Яа-яЁё]", m.id if isinstance(m.id, str) else m.id[0])
        and not any(loc.startswith(("shop/apps/basket", "shop/apps/order")) for loc, _ in m.locations)
    ]
    assert russian == []


def test_every_plural_has_the_four_russian_forms():
    for folder in CATALOGUES:
        for message in entries(folder / "django.po"):
            if not isinstance(message.string, str):
                assert len(message.string) == 4, message.id


#: Every catalogue the shop ships: the project's, Oscar's corrections and the apps' own.
ALL_CATALOGUES = CATALOGUES + sorted(REPO.glob("*/locale/ru/LC_MESSAGES")) + sorted(REPO.glob("shop/apps/*/locale/ru/LC_MESSAGES"))


@pytest.mark.parametrize("folder", ALL_CATALOGUES, ids=lambda p: str(p.relative_to(REPO)))
def test_filter_is_never_translated_as_find(folder):
    """
    "Filter" is a noun (the admin's filter panel, a model's name, a form's heading): a
    search verb («Найти», «Ищем») for it leaked into every admin list. A form that wants
    a verb says so with a context.
    """
    wrong = [
        (m.id, m.string)
        for m in entries(folder / "django.po")
        if not m.context
        and isinstance(m.id, str)
        and re.match(r"filter(s|ing)?\b", m.id, re.IGNORECASE)
        and re.search(r"найд|найт|ищем|поиск", m.string, re.IGNORECASE)
    ]
    assert wrong == []


def test_filter_reads_as_a_noun_wherever_django_looks_it_up():
    from django.utils import translation
    from django.utils.translation import gettext, pgettext

    from shop.apps.search.models import FilterSetting

    with translation.override("ru"):
        assert gettext("Filter") == "Фильтр"
        assert gettext("Filters") == "Фильтры"
        assert str(FilterSetting._meta.verbose_name) == "фильтр"
        assert str(FilterSetting._meta.verbose_name_plural) == "фильтры"
        assert pgettext("order history form", "Filter") == "Поиск заказов"


def test_russian_texts_use_a_dash_not_a_hyphen():
    """Whatever catalogue wins (ours, Oscar's, Django's), a Russian sentence breaks with «—», never « - »."""
    from django.utils import translation
    from django.utils.translation import trans_real

    with translation.override("ru"):
        catalogue = trans_real.translation("ru")._catalog
        keys = {key for part in catalogue._catalogs for key in part}
        hyphens = {
            key: catalogue.get(key)
            for key in keys
            if isinstance(catalogue.get(key), str) and re.search(r"(?<=\S) - (?=\S)|^- ", catalogue.get(key))
        }
    assert hyphens == {}
