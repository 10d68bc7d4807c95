from django.utils.text import slugify
from unidecode import unidecode


def transliterate_slugify(value, allow_unicode=False):
    """
    Oscar's slug function (``OSCAR_SLUG_FUNCTION``): Cyrillic titles become readable
    Latin slugs ("Дрель электрическая" -> "drel-elektricheskaia") instead of Oscar's
    default escaped gibberish.
    """
    return slugify(unidecode(str(value)))
