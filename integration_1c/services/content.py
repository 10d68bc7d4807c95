"""
What the importer does to text before it reaches Oscar's columns and pages.

* Descriptions are HTML on the product page (Oscar renders them ``|safe``), so they
  are sanitised with an allow-list (nh3): the formatting 1C's HTML editor writes
  (paragraphs, lists, tables, emphasis, links, pictures by URL) stays, scripts, event
  handlers, styles and ``javascript:`` links go. A description 1C marks as plain text
  (requisite ``ОписаниеВФорматеHTML`` not "true") and that holds no markup is escaped,
  its line breaks kept.
* A name longer than its column is cut with a warning instead of failing the whole file
  (the database would refuse the row, and one long name would stop every product).
* The reader's notices (a text node cut to conf ``ONEC_MAX_TEXT_NODE``) become warnings.

:func:`fit` is called on every batch of records before it is written.
"""

import html
import re
from functools import lru_cache

import nh3
from oscar.core.loading import get_model

from integration_1c.commerceml import records as rec

HTML_REQUISITE = "ОписаниеВФорматеHTML"
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!]")

#: What 1C's HTML editor and Bitrix's visual editor write.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "p": {"align"},
    "div": {"align"},
    "table": {"border", "cellpadding", "cellspacing", "width"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitise_description(text, is_html):
    """Safe HTML for the product page from what 1C sent."""
    if not text:
        return ""
    if not is_html and not _MARKUP.search(text):
        return html.escape(text).replace("\r\n", "\n").replace("\n", "<br>\n")
    return nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


@lru_cache(maxsize=None)
def column_length(app_label, model_name, field_name):
    return get_model(app_label, model_name)._meta.get_field(field_name).max_length


#: Record field -> the column it lands in.
COLUMNS = {
    rec.Group: {"name": ("catalogue", "Category", "name")},
    rec.Property: {"name": ("catalogue", "ProductAttribute", "name")},
    rec.PriceType: {"name": ("integration_1c", "PriceType", "name"), "currency": ("integration_1c", "PriceType", "currency")},
    rec.Warehouse: {"name": ("partner", "Partner", "name")},
    rec.Product: {"name": ("catalogue", "Product", "title"), "manufacturer": ("catalogue", "AttributeOption", "option")},
    rec.Offer: {"name": ("catalogue", "Product", "title")},
}  # fmt: skip


def fit(batch, report):
    """The records of one batch, fitted to the shop; notices and cuts become warnings."""
    if not batch:
        return batch
    kind = type(batch[0])
    if kind is rec.Notice:
        for notice in batch:
            report.warn(notice.message)
        return []
    columns = COLUMNS.get(kind, {})
    for record in batch:
        for field, column in columns.items():
            value = getattr(record, field, None)
            limit = column_length(*column)
            if isinstance(value, str) and limit and len(value) > limit:
                setattr(record, field, value[:limit])
                report.warn(
                    f"{_what(record)}: {field_label(field)} длиннее {limit} символов — обрезано"
                )
        if kind is rec.Product and record.description:
            flag = str(record.requisites.get(HTML_REQUISITE, "")).strip().lower()
            record.description = sanitise_description(record.description, flag in ("true", "истина", "1", "да"))
        if kind is rec.Property:
            limit = column_length("catalogue", "AttributeOption", "option")
            if any(len(value or "") > limit for _id, value in record.options):
                record.options = [(option_id, (value or "")[:limit]) for option_id, value in record.options]
                report.warn(f"{_what(record)}: значение справочника длиннее {limit} символов — обрезано")
    return batch


def field_label(field):
    return {"name": "наименование", "currency": "валюта", "manufacturer": "изготовитель"}.get(field, field)


def _what(record):
    names = {rec.Group: "группа", rec.Property: "свойство", rec.PriceType: "тип цен", rec.Warehouse: "склад",
             rec.Product: "товар", rec.Offer: "предложение"}  # fmt: skip
    return f"{names.get(type(record), 'запись')} {getattr(record, 'id', '')}"
