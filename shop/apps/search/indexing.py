"""
Keeping the listing rows (:class:`~.models.ProductDocument`, :class:`~.models.ProductFacet`)
in step with Oscar's catalogue.

Who calls what:

* the 1C import, once per file and inside its transaction, through the
  ``integration_1c.signals.catalogue_changed`` signal (receiver in ``receivers.py``):
  :func:`refresh_changed_since` refreshes every product the file wrote — the products,
  variants and stock records whose ``date_updated`` is at or after the file's start —
  in batches, set-based (a few queries per batch of :data:`BATCH_SIZE` products,
  whatever the catalogue's size), then drops the rows of products that are no longer
  listed (hidden by a full package);
* saves made one by one (the dashboard, a manager in the admin, placed orders) through
  Django's model signals: :func:`refresh_products` for that product;
* ``manage.py rebuild_search_index``: :func:`rebuild_all`.

Rows are derived data only: rebuilding them from Oscar's tables gives the same rows.
"""

import re
from collections import defaultdict
from functools import lru_cache

from django.db import connection
from django.utils.html import strip_tags
from oscar.core.loading import get_model

from integration_1c import conf
from integration_1c.services.bulk import delete_where_in, upsert

from .models import FilterSetting, ProductDocument, ProductFacet

Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductCategory = get_model("catalogue", "ProductCategory")
StockRecord = get_model("partner", "StockRecord")
Partner = get_model("partner", "Partner")
ProductRecord = get_model("analytics", "ProductRecord")

#: Listed products refreshed per batch.
BATCH_SIZE = 1000
#: Attribute codes whose values identify a product (written by the 1C import).
IDENTIFIER_ATTRIBUTES = ("article", "barcode")
#: 1C characteristics are text attributes with this code prefix (integration_1c.services.attributes).
CHARACTERISTIC_PREFIX = "c_"
#: Fixed 1C requisites that are not search text of their own.
NOT_SEARCH_TEXT = ("unit",)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]")


# -- stems (the SQLite search) -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _stemmers():
    import snowballstemmer

    return snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english")


@lru_cache(maxsize=50_000)
def stem(word):
    """A word's stem: Russian words by the Russian Snowball stemmer, others by the English one."""
    word = word.lower().replace("ё", "е")
    russian, english = _stemmers()
    return (russian if _CYRILLIC.search(word) else english).stemWord(word)


def stems(text):
    """The stems of ``text``'s words, space-separated and framed by spaces (`` дрел ударн ``)."""
    words = [stem(word) for word in _WORD.findall(text or "")]
    return f" {' '.join(words)} " if words else ""


def uses_stems():
    """Only databases without a Russian full-text search store stems (PostgreSQL has its own)."""
    return connection.vendor != "postgresql"


# -- what is listed ------------------------------------------------------------------------------


def sales_partner_id():
    return Partner.objects.filter(code=conf.get("ONEC_SALES_PARTNER_CODE")).values_list("pk", flat=True).first()


def default_filterable(attribute_type, code):
    """1C reference properties (Справочник) and variant characteristics are filters unless a manager says otherwise."""
    return attribute_type == ProductAttribute.OPTION or code.startswith(CHARACTERISTIC_PREFIX)


def listed_ids(product_ids):
    """The listed products behind ``product_ids``: a variant stands for its parent."""
    result = set()
    for pk, parent_id in Product.objects.order_by().filter(pk__in_array=list(product_ids)).values_list(
        "pk", "parent_id"
    ):
        result.add(parent_id or pk)
    return result


def refresh_products(product_ids):
    """Refresh the listing rows of ``product_ids`` (any products: variants refresh their parent)."""
    ids = sorted(listed_ids(product_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])


def refresh_changed_since(moment):
    """
    Refresh every listed product that has a product, variant or stock record written at or
    after ``moment`` (an import's start), then drop rows of products no longer listed.
    Returns how many listed products were refreshed.
    """
    product_table = connection.ops.quote_name(Product._meta.db_table)
    stock_table = connection.ops.quote_name(StockRecord._meta.db_table)
    sql = (
        f"SELECT COALESCE(p.parent_id, p.id) FROM {product_table} p WHERE p.date_updated >= %s "
        f"UNION SELECT COALESCE(p.parent_id, p.id) FROM {stock_table} s "
        f"JOIN {product_table} p ON p.id = s.product_id WHERE s.date_updated >= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [moment, moment])
        ids = sorted(row[0] for row in cursor.fetchall())
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])
    drop_unlisted()
    return len(ids)


def drop_unlisted():
    """Remove the rows of products that are no longer listed (hidden, or turned into a variant)."""
    stale = list(
        ProductDocument.objects.filter(product__is_public=False).values_list("product_id", flat=True)
    ) + list(
        ProductDocument.objects.filter(product__parent__isnull=False).values_list("product_id", flat=True)
    )
    _delete_rows(stale)
    return len(stale)


def rebuild_all(progress=None):
    """Rebuild every listing row from Oscar's tables (``manage.py rebuild_search_index``)."""
    ids = list(
        Product.objects.order_by("pk")
        .filter(is_public=True, parent__isnull=True)
        .exclude(structure=Product.CHILD)
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(ids)), len(ids))
    listed = set(ids)
    orphans = [pk for pk in ProductDocument.objects.values_list("product_id", flat=True) if pk not in listed]
    _delete_rows(orphans)
    return len(ids)


def _delete_rows(product_ids):
    if product_ids:
        delete_where_in(ProductFacet, "product_id", product_ids)
        delete_where_in(ProductDocument, "product_id", product_ids)


# -- one batch -----------------------------------------------------------------------------------


def _refresh_batch(ids):
    """Rebuild the rows of the listed products ``ids`` (parents and standalone products)."""
    products = {
        row["id"]: row
        for row in Product.objects.order_by()
        .filter(pk__in_array=ids)
        .values("id", "title", "description", "code", "upc", "structure", "is_public", "parent_id", "date_created")
    }
    listed = [
        pk
        for pk, row in products.items()
        if row["is_public"] and row["parent_id"] is None and row["structure"] != Product.CHILD
    ]
    gone = [pk for pk in ids if pk not in listed]
    _delete_rows(gone)
    if not listed:
        return
    owner = {pk: pk for pk in listed}  # product or variant id -> listed product id
    variants = defaultdict(list)
    for row in (
        Product.objects.order_by()
        .filter(parent_id__in_array=listed, is_public=True)
        .values("id", "parent_id", "code", "upc")
    ):
        owner[row["id"]] = row["parent_id"]
        variants[row["parent_id"]].append(row)
    all_ids = list(owner)

    facets = defaultdict(set)  # listed id -> {(kind, key, value, number)}
    texts = defaultdict(list)  # listed id -> search words beside the title
    for pk in listed:
        row = products[pk]
        description = strip_tags(row["description"] or "").strip()
        if description:
            texts[pk].append(description)
        for identifier in [row["code"], row["upc"]] + [
            value for variant in variants[pk] for value in (variant["code"], variant["upc"])
        ]:
            _add_identifier(facets[pk], identifier)

    attribute_ids = set()
    for value in (
        ProductAttributeValue.objects.order_by()
        .filter(product_id__in_array=all_ids)
        .values(
            "product_id",
            "attribute_id",
            "attribute__code",
            "attribute__type",
            "value_text",
            "value_float",
            "value_integer",
            "value_option__option",
        )
    ):
        pk = owner[value["product_id"]]
        code, kind = value["attribute__code"], value["attribute__type"]
        if code in IDENTIFIER_ATTRIBUTES:
            _add_identifier(facets[pk], value["value_text"])
            continue
        if code in NOT_SEARCH_TEXT:
            continue
        if kind == ProductAttribute.OPTION and value["value_option__option"]:
            facets[pk].add((ProductFacet.VALUE, value["attribute_id"], value["value_option__option"][:255], None))
            texts[pk].append(value["value_option__option"])
            attribute_ids.add(value["attribute_id"])
        elif kind in (ProductAttribute.FLOAT, ProductAttribute.INTEGER):
            number = value["value_float"] if kind == ProductAttribute.FLOAT else value["value_integer"]
            if number is not None:
                facets[pk].add((ProductFacet.NUMBER, value["attribute_id"], "", float(number)))
                attribute_ids.add(value["attribute_id"])
        elif kind == ProductAttribute.TEXT and value["value_text"]:
            text = value["value_text"].strip()
            if code.startswith(CHARACTERISTIC_PREFIX):
                facets[pk].add((ProductFacet.VALUE, value["attribute_id"], text[:255], None))
                attribute_ids.add(value["attribute_id"])
            texts[pk].append(text)

    for product_id, category_id in (
        ProductCategory.objects.order_by().filter(product_id__in_array=listed).values_list("product_id", "category_id")
    ):
        facets[product_id].add((ProductFacet.CATEGORY, category_id, "", None))

    sales_id = sales_partner_id()
    prices, in_stock = {}, set()
    for product_id, partner_id, price, num_in_stock, num_allocated in (
        StockRecord.objects.order_by()
        .filter(product_id__in_array=all_ids)
        .values_list("product_id", "partner_id", "price", "num_in_stock", "num_allocated")
    ):
        pk = owner[product_id]
        available = (num_in_stock or 0) - (num_allocated or 0)
        if partner_id == sales_id:
            if price is not None and (pk not in prices or price < prices[pk]):
                prices[pk] = price
            if available > 0:
                in_stock.add(pk)
        elif (num_in_stock or 0) > 0:
            facets[pk].add((ProductFacet.WAREHOUSE, partner_id, "", None))
    if sales_id is None:
        # Before the first exchange (or in a shop without 1C) any stock record sells.
        for pk, row in products.items():
            if any(kind == ProductFacet.WAREHOUSE for kind, *_ in facets[pk]):
                in_stock.add(pk)

    popularity = dict(
        ProductRecord.objects.order_by()
        .filter(product_id__in_array=listed)
        .values_list("product_id", "num_purchases")
    )

    with_stems = uses_stems()
    documents = []
    for pk in listed:
        row = products[pk]
        text = "\n".join(dict.fromkeys(texts[pk]))
        documents.append(
            {
                "product_id": pk,
                "title": row["title"][:255],
                "text": text,
                "title_stems": stems(row["title"]) if with_stems else "",
                "text_stems": stems(text) if with_stems else "",
                "price": prices.get(pk),
                "in_stock": pk in in_stock,
                "date_created": row["date_created"],
                "popularity": popularity.get(pk) or 0,
            }
        )
    delete_where_in(ProductFacet, "product_id", listed)
    upsert(
        ProductDocument,
        documents,
        unique=["product"],
        update=["title", "text", "title_stems", "text_stems", "price", "in_stock", "date_created", "popularity"],
    )
    facet_rows = [
        {"product_id": pk, "kind": kind, "key": key, "value": value, "number": number}
        for pk in listed
        for kind, key, value, number in facets[pk]
    ]
    if facet_rows:
        upsert(ProductFacet, facet_rows, unique=["id"], update=[])
    if attribute_ids:
        ensure_filter_settings(attribute_ids)


def _add_identifier(rows, value):
    value = (value or "").strip().lower()
    if value:
        rows.add((ProductFacet.IDENTIFIER, 0, value[:255], None))


def ensure_filter_settings(attribute_ids):
    """A :class:`FilterSetting` for every attribute that has facet values, with the default choice."""
    known = set(
        FilterSetting.objects.filter(attribute_id__in=list(attribute_ids)).values_list("attribute_id", flat=True)
    )
    missing = [pk for pk in attribute_ids if pk not in known]
    if not missing:
        return
    FilterSetting.objects.bulk_create(
        [
            FilterSetting(attribute_id=pk, is_filterable=default_filterable(kind, code))
            for pk, kind, code in ProductAttribute.objects.filter(pk__in=missing).values_list("pk", "type", "code")
        ],
        ignore_conflicts=True,
    )
