"""Slugs of Russian and Kazakh titles (``shop.utils``): the table gives what unidecode gives."""

import pytest
from unidecode import unidecode

from shop import utils
from shop.utils import transliterate, transliterate_slugify

TITLES = [
    "Дрель электрическая",
    "Шлифмашина угловая Metabo EB-2706, арт. TL-019916",
    "Қазақстан: әдемі көйлек, ұлттық өрнек, һ і ғ ң ө ү",
    "Ёлка «Зимняя» №5 — 1,5 м × 2 шт.",
    "Crème brûlée Ωμέγα ß æ Ł",
    "茶 ☕ 🙂 ﬁ ① ½",  # beyond the table: unidecode itself
    "",
]


@pytest.mark.parametrize("title", TITLES)
def test_the_table_transliterates_as_unidecode_does(title):
    assert transliterate(title) == unidecode(title)


def test_every_character_of_the_table_is_unidecode_s():
    for block in (range(0x20, 0x600), range(0x1F00, 0x2200)):
        text = "".join(chr(code) for code in block)
        assert transliterate(text) == unidecode(text)


def test_russian_punctuation_is_in_the_table():
    """A dash, typographic quotes or «№» keep a title on the table, not unidecode's slow path."""
    title = "Кабель — 5 м, “ВВГ” №3…"
    assert title.translate(utils._TRANSLITERATED).isascii()
    assert transliterate_slugify(title) == "kabel-5-m-vvg-no-3"


def test_russian_titles_become_readable_latin_slugs():
    assert transliterate_slugify("Дрель электрическая") == "drel-elektricheskaia"
    assert transliterate_slugify("Ёлка «Зимняя» №5") == "iolka-zimniaia-no-5"
