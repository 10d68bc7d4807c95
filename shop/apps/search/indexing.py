"""
Keeping the listing rows (:class:`~.models.ProductListing`, :class:`~.models.ProductDocument`,
:class:`~.models.ProductFacet`) in step with Oscar's catalogue.

Who calls what:

* the 1C import, once per file and inside its transaction, through the
  ``integration_1c.signals.catalogue_changed`` signal (receiver in ``receivers.py``):
  :func:`refresh_changed_since` refreshes every product the file wrote — the products
  and variants whose ``date_updated`` is at or after the file's start, and those whose
  stock records the import recorded writing — in batches, set-based (a few queries per
  batch of :data:`BATCH_SIZE` products, whatever the catalogue's size) — products whose
  stock records alone were written (an offers file) only in what stock decides: price,
  availability, warehouses — then, after a full package, drops the rows of products that
  are no longer listed (hidden for not being listed). A package of changes reads no
  listing row it did not write. Every committed refresh renews the version of the
  cached listing counts and cards (``caching``);
* saves made one by one (the dashboard, a manager in the admin, placed orders) through
  Django's model signals: :func:`refresh_products` for that product;
* ``manage.py rebuild_search_index``: :func:`rebuild_all`.

Rows are derived data only: rebuilding them from Oscar's tables gives the same rows.
"""

import re
import threading
from collections import defaultdict
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.html import strip_tags
from oscar.core.loading import get_model

from integration_1c.services.bulk import delete_where_in, upsert

from . import caching
from shop.apps.partner.selectors import sales_partner_id

from .models import FilterSetting, ListingDebt, ProductDocument, ProductFacet, ProductListing, SearchWord

Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductCategory = get_model("catalogue", "ProductCategory")
StockRecord = get_model("partner", "StockRecord")
ProductRecord = get_model("analytics", "ProductRecord")

#: Listed products refreshed per batch.
BATCH_SIZE = 1000
#: Recorded stock writes looked up at a time (:func:`refresh_changed_since`).
STOCK_WRITTEN_SLICE = 20_000
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


#: The words of a title kept for near misses (:class:`~.models.SearchWord`): no shorter
#: ones (a correction of «на» is noise), no numbers.
SEARCH_WORD_LENGTH = (3, 64)


def title_words(title):
    """
    The words of a title as :class:`~.models.SearchWord` keeps them: folded as search
    folds them (lower case, ё as е), of :data:`SEARCH_WORD_LENGTH`, no numbers. The
    PostgreSQL refresh takes the same from the ``simple`` text-search parser.
    """
    shortest, longest = SEARCH_WORD_LENGTH
    return {
        word
        for word in _WORD.findall((title or "").lower().replace("ё", "е"))
        if shortest <= len(word) <= longest and not word.isdigit()
    }


#: The same words, from the ``title`` column of ``{titles}`` (a table or a CTE), by PostgreSQL.
_TITLE_WORDS_SQL = (
    "SELECT DISTINCT w FROM {titles} d CROSS JOIN LATERAL unnest(tsvector_to_array("
    "to_tsvector('simple'::regconfig, replace(lower(d.title), 'ё', 'е')))) AS w "
    "WHERE char_length(w) BETWEEN %(word_shortest)s AND %(word_longest)s AND btrim(w, '0123456789+-.,/') <> ''"
)


def _title_word_params():
    return {"word_shortest": SEARCH_WORD_LENGTH[0], "word_longest": SEARCH_WORD_LENGTH[1]}


def add_search_words(titles):
    """Keep the words of ``titles`` for near misses (words already kept are left alone)."""
    words = set().union(*(title_words(title) for title in titles)) if titles else set()
    if words:
        SearchWord.objects.bulk_create([SearchWord(word=word) for word in sorted(words)], ignore_conflicts=True)


def uses_stems():
    """Only databases without a Russian full-text search store stems (PostgreSQL has its own)."""
    return connection.vendor != "postgresql"


# -- what is listed ------------------------------------------------------------------------------


def default_filterable(attribute_type, code):
    """1C reference properties (Справочник) and variant characteristics are filters unless a manager says otherwise."""
    return attribute_type == ProductAttribute.OPTION or code.startswith(CHARACTERISTIC_PREFIX)


# -- text and yes/no properties as filters ---------------------------------------------------------

#: 1C properties are attributes with this code prefix (integration_1c.services.attributes).
PROPERTY_PREFIX = "p_"
#: Property types whose values the listing rows carry only while a manager has made them filters:
#: a free text (Строка) such as «Материал» is rarely a useful filter, and carrying every product's
#: texts would make every refresh and every count longer for nothing.
SWITCHED_TYPES = (ProductAttribute.TEXT, ProductAttribute.BOOLEAN)
#: What a yes/no property's value is in a facet string and in the filter's URL.
YES, NO = "1", "0"


def is_switched_property(attribute_type, code):
    """Whether the listing rows carry this attribute's values only while it is a filter (see :data:`SWITCHED_TYPES`)."""
    return attribute_type in SWITCHED_TYPES and code.startswith(PROPERTY_PREFIX)


def switched_on_properties():
    """Ids of the text and yes/no 1C properties a manager made filters: the rows carry their values."""
    return sorted(
        FilterSetting.objects.filter(
            is_filterable=True, attribute__type__in=SWITCHED_TYPES, attribute__code__startswith=PROPERTY_PREFIX
        ).values_list("attribute_id", flat=True)
    )


def refresh_attribute(attribute_id):
    """
    Refresh the rows of every listed product with a value of the attribute: a text or
    yes/no property a manager switched on (its values join the rows) or off (they leave).
    Returns how many products had a value.
    """
    product_ids = set(
        ProductAttributeValue.objects.filter(attribute_id=attribute_id).values_list("product_id", flat=True)
    )
    refresh_products(product_ids)
    return len(product_ids)


def listed_ids(product_ids):
    """The listed products behind ``product_ids``: a variant stands for its parent."""
    result = set()
    for pk, parent_id in Product.objects.order_by().filter(pk__in_array=list(product_ids)).values_list(
        "pk", "parent_id"
    ):
        result.add(parent_id or pk)
    return result


_pending = threading.local()


def schedule_refresh(product_ids):
    """
    Refresh the rows of ``product_ids`` when the current transaction commits (at once
    outside one). A product saved field by field — the product, its categories, stock
    records, attribute values — is refreshed once, not once per save. Listing reads in
    the same thread refresh what is still pending first (:func:`flush_pending`), so a
    transaction sees its own changes.
    """
    pending = getattr(_pending, "ids", None)
    if pending is None:
        pending = _pending.ids = set()
    ids = {pk for pk in product_ids if pk}
    if ids:
        pending.update(ids)
        # Registered for every call, not once per batch: a transaction that rolled back
        # never ran its callback, and the ids it left (which SQLite may even hand out
        # again) must not wait for ever. Refreshing them again is harmless; the callbacks
        # after the first find nothing pending.
        transaction.on_commit(flush_pending)


def flush_pending():
    """Refresh the rows scheduled by :func:`schedule_refresh` (no-op when none are)."""
    pending = getattr(_pending, "ids", None)
    if pending:
        ids, _pending.ids = set(pending), set()
        refresh_products(ids)


def refresh_products(product_ids):
    """Refresh the listing rows of ``product_ids`` (any products: variants refresh their parent)."""
    ids = sorted(listed_ids(product_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])
    if ids:
        caching.changed()


def refresh_changed_since(moment, *, full=True, stock_written=None):
    """
    Refresh every listed product that has a product or variant written at or after
    ``moment`` (an import's start), or whose stock records (or its variants') were
    written: ``stock_written``, the product ids the import recorded
    (``integration_1c.services.stock.recording_writes``); without them, the records
    stamped since ``moment`` — a scan of every stock record, which has no index on its
    stamp. After a ``full`` package, also drop the rows of every product no longer
    listed: the products such a package hid for not listing them
    (``apply_missing_products``) are hidden in one UPDATE without a new ``date_updated``,
    so only a sweep of all the rows finds them. A package of changes hides only through
    rows it stamps (products, variants, ``CML2_ACTIVE``), which the refresh of what was
    written drops already; the sweep, which reads every listing row, is left out there so
    that 100 changed offers cost the same on a catalogue of 1,000 or 100,000 products.
    Refreshes left to this one (:class:`~.models.ListingDebt`) are paid with it: it
    reaches back to the earliest ``since`` owed, and sweeps if any was a full package's.
    Returns how many listed products were refreshed.
    """
    owed = list(ListingDebt.objects.select_for_update().values_list("pk", "since", "full"))
    if owed:
        moment = min([moment, *(since for _, since, _ in owed)])
        full = full or any(owed_full for _, _, owed_full in owed)
        ListingDebt.objects.filter(pk__in=[pk for pk, _, _ in owed]).delete()
    product_table = connection.ops.quote_name(Product._meta.db_table)
    stock_table = connection.ops.quote_name(StockRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT COALESCE(p.parent_id, p.id) FROM {product_table} p WHERE p.date_updated >= %s", [moment]
        )
        written = {row[0] for row in cursor.fetchall()}
        if stock_written is None:
            cursor.execute(
                f"SELECT DISTINCT COALESCE(p.parent_id, p.id) FROM {stock_table} s "
                f"JOIN {product_table} p ON p.id = s.product_id WHERE s.date_updated >= %s",
                [moment],
            )
            stocked = {row[0] for row in cursor.fetchall()}
        else:
            stocked = set()
            # In slices: a full offers file records half a million writes (a stock record
            # each, ids repeated), and a set of them all cost the worker 30 MB at its peak.
            for start in range(0, len(stock_written), STOCK_WRITTEN_SLICE):
                stocked |= listed_ids(set(stock_written[start : start + STOCK_WRITTEN_SLICE]) - written)
        stocked -= written
    ids = sorted(written)
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])
    # Products whose stock alone changed (an offers file, 1C's changes every few minutes):
    # only their price, availability and warehouses can have changed.
    stock_only = sorted(stocked)
    for start in range(0, len(stock_only), BATCH_SIZE):
        _refresh_stock_batch(stock_only[start : start + BATCH_SIZE])
    if full:
        drop_unlisted()
    caching.changed()
    return len(ids) + len(stock_only)


def defer_refresh(moment, *, full=True):
    """
    Leave the refresh of what was written since ``moment`` to the next refresh (a 1C file
    followed by another in the same exchange: :class:`~.models.ListingDebt`).
    """
    ListingDebt.objects.create(since=moment, full=full)


def _owed(left_before=None):
    """The refreshes left to files that have not made them (left before ``left_before``)."""
    owed = ListingDebt.objects.all()
    return owed if left_before is None else owed.filter(created_at__lt=left_before)


def owes(left_before=None):
    """Whether a refresh was left (before ``left_before``) to a file that has not made it (:func:`pay_debts`)."""
    return _owed(left_before).exists()


def pay_debts(left_before=None):
    """
    Pay the refreshes left by files no other file followed (the offers file failed, or
    the exchange stopped after the catalogue file); returns how many products were
    refreshed. ``left_before``: only if a debt was left before that moment (the task
    that comes a while after a file must not pay what the next exchange's catalogue
    file just left to its offers file). Without the stock records the import recorded,
    the records stamped since the earliest debt are looked up (a scan of the table:
    this is the rare path).
    """
    with transaction.atomic():
        if not _owed(left_before).exists():
            return 0
        # From now: the refresh reaches back to the earliest debt's start by itself, and
        # sweeps if any was a full package's.
        return refresh_changed_since(timezone.now(), full=False)


def drop_unlisted():
    """
    Remove the rows of products that are no longer listed: hidden, turned into a
    variant, or gone (the rows have no foreign-key constraint: a product deleted other
    than through Django leaves its rows behind, see ``models``).
    """
    listed = Product.objects.filter(pk=OuterRef("product_id"), is_public=True, parent__isnull=True)
    stale = list(
        ProductListing.objects.filter(~Exists(listed)).order_by().values_list("product_id", flat=True)
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
    orphans = {pk for pk in ProductListing.objects.values_list("product_id", flat=True) if pk not in listed}
    orphans |= {pk for pk in ProductDocument.objects.values_list("product_id", flat=True) if pk not in listed}
    _delete_rows(orphans)
    rebuild_search_words()
    ListingDebt.objects.all().delete()  # every row is made anew: nothing is owed
    caching.changed()
    return len(ids)


def rebuild_search_words():
    """The near-miss words again from the titles there are, without the words of titles gone."""
    with transaction.atomic():
        SearchWord.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO search_searchword (word) "
                    + _TITLE_WORDS_SQL.format(titles="search_productdocument")
                    + " ON CONFLICT DO NOTHING",
                    _title_word_params(),
                )
        else:
            add_search_words(list(ProductDocument.objects.values_list("title", flat=True)))


def _delete_rows(product_ids):
    if product_ids:
        delete_where_in(ProductFacet, "product_id", product_ids)
        delete_where_in(ProductDocument, "product_id", product_ids)
        delete_where_in(ProductListing, "product_id", product_ids)


# -- one batch -----------------------------------------------------------------------------------


def _refresh_batch(ids):
    """Rebuild the rows of the listed products ``ids`` (parents and standalone products)."""
    if connection.vendor == "postgresql":
        _refresh_batch_sql(ids)
    else:
        _refresh_batch_python(ids)


def _refresh_stock_batch(ids):
    """
    Refresh what stock decides in the rows of the listed products ``ids`` — price,
    availability, the warehouses holding them — leaving their text, values and categories
    alone. Products without a listing row yet (made public again) get a whole one.
    """
    if connection.vendor != "postgresql":
        _refresh_batch(ids)
        return
    params = {"ids": list(ids), "sales": sales_partner_id()}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        # One statement: the update, and the ids it could not refresh (no longer listed,
        # or without a row yet), which the whole refresh then drops or makes.
        cursor.execute(_REFRESH_STOCK_SQL, params)
        missing = [row[0] for row in cursor.fetchall()]
    if missing:
        _refresh_batch(sorted(set(missing)))


def _refresh_batch_python(ids):
    """The rows computed in Python (SQLite: the stems need Python anyway)."""
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

    categories = defaultdict(set)  # listed id -> category ids
    values = defaultdict(set)  # listed id -> ProductListing facet strings
    identifiers = defaultdict(set)  # listed id -> lowercase identifiers
    facets = defaultdict(set)  # listed id -> {(kind, key, value, number)} ProductFacet rows
    texts = defaultdict(set)  # listed id -> property and variant values, searched beside the title
    descriptions = {}  # listed id -> the description's text
    for pk in listed:
        row = products[pk]
        description = strip_tags(row["description"] or "").strip()
        if description:
            descriptions[pk] = description
        for identifier in [row["code"], row["upc"]] + [
            value for variant in variants[pk] for value in (variant["code"], variant["upc"])
        ]:
            _add_identifier(identifiers[pk], identifier)

    attribute_ids = set()
    switched_on = set(switched_on_properties())
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
            "value_boolean",
            "value_option__option",
        )
    ):
        pk = owner[value["product_id"]]
        code, kind = value["attribute__code"], value["attribute__type"]
        if code in IDENTIFIER_ATTRIBUTES:
            _add_identifier(identifiers[pk], value["value_text"])
            continue
        if code in NOT_SEARCH_TEXT:
            continue
        if kind == ProductAttribute.OPTION and value["value_option__option"]:
            values[pk].add(ProductListing.value_facet(value["attribute_id"], value["value_option__option"][:255]))
            texts[pk].add(value["value_option__option"])
            attribute_ids.add(value["attribute_id"])
        elif kind in (ProductAttribute.FLOAT, ProductAttribute.INTEGER):
            number = value["value_float"] if kind == ProductAttribute.FLOAT else value["value_integer"]
            if number is not None:
                facets[pk].add((ProductFacet.NUMBER, value["attribute_id"], "", float(number)))
                attribute_ids.add(value["attribute_id"])
        elif kind == ProductAttribute.TEXT and value["value_text"]:
            text = value["value_text"].strip()
            if code.startswith(CHARACTERISTIC_PREFIX) or value["attribute_id"] in switched_on:
                values[pk].add(ProductListing.value_facet(value["attribute_id"], text[:255]))
            if code.startswith(CHARACTERISTIC_PREFIX) or code.startswith(PROPERTY_PREFIX):
                attribute_ids.add(value["attribute_id"])
            texts[pk].add(text)
        elif kind == ProductAttribute.BOOLEAN and value["value_boolean"] is not None:
            if value["attribute_id"] in switched_on:
                flag = YES if value["value_boolean"] else NO
                values[pk].add(ProductListing.value_facet(value["attribute_id"], flag))
            if code.startswith(PROPERTY_PREFIX):
                attribute_ids.add(value["attribute_id"])

    for product_id, category_id in (
        ProductCategory.objects.order_by().filter(product_id__in_array=listed).values_list("product_id", "category_id")
    ):
        categories[product_id].add(category_id)

    sales_id = sales_partner_id()
    prices, in_stock = {}, set()
    for product_id, partner_id, price, num_in_stock, num_allocated in (
        StockRecord.objects.order_by()
        .filter(product_id__in_array=all_ids)
        .values_list("product_id", "partner_id", "price", "num_in_stock", "num_allocated")
    ):
        pk = owner[product_id]
        available = (num_in_stock or 0) - (num_allocated or 0)
        if sales_id is None or partner_id == sales_id:
            if price is not None and (pk not in prices or price < prices[pk]):
                prices[pk] = price
            if available > 0:
                in_stock.add(pk)
        if partner_id != sales_id and (num_in_stock or 0) > 0:
            values[pk].add(ProductListing.warehouse_facet(partner_id))

    popularity = dict(
        ProductRecord.objects.order_by()
        .filter(product_id__in_array=listed)
        .values_list("product_id", "num_purchases")
    )

    with_stems = uses_stems()
    documents, listings = [], []
    for pk in listed:
        row = products[pk]
        # The values sorted, not in the order of their rows: the same text whichever way the rows
        # were read (PostgreSQL's ``string_agg(DISTINCT …)`` sorts them too).
        text = "\n".join(([descriptions[pk]] if pk in descriptions else []) + sorted(texts[pk]))
        documents.append(
            {
                "product_id": pk,
                "title": row["title"][:255],
                "text": text,
                "title_stems": stems(row["title"]) if with_stems else "",
                "text_stems": stems(text) if with_stems else "",
            }
        )
        listings.append(
            {
                "product_id": pk,
                "title": row["title"][:255],
                "price": prices.get(pk),
                "in_stock": pk in in_stock,
                "date_created": row["date_created"],
                "popularity": popularity.get(pk) or 0,
                "categories": sorted(categories[pk]),
                "facets": sorted(values[pk]),
                "identifiers": sorted(identifiers[pk]),
            }
        )
    delete_where_in(ProductFacet, "product_id", listed)
    add_search_words([document["title"] for document in documents])
    upsert(ProductDocument, documents, unique=["product"], update=["title", "text", "title_stems", "text_stems"])
    upsert(
        ProductListing,
        listings,
        unique=["product"],
        update=["title", "price", "in_stock", "date_created", "popularity", "categories", "facets", "identifiers"],
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


def _add_identifier(identifiers, value):
    value = (value or "").strip().lower()
    if value:
        identifiers.add(value[:255])


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


# -- one batch, set-based (PostgreSQL) -------------------------------------------------------------

#: The batch's listed products and their public variants ("members": owner = the listed product),
#: their attribute values and stock records. Every lookup is a LATERAL subquery with
#: ``OFFSET 0`` so the planner keeps it an index lookup per product: during an import the
#: statistics lag far behind the tables, and a plan from them scans a million attribute
#: values per batch.
_LISTED_SQL = """
listed AS MATERIALIZED (
    SELECT p.id, p.title, p.description, p.date_created
    FROM unnest(%(ids)s::int[]) AS ids(id)
    CROSS JOIN LATERAL (
        SELECT * FROM catalogue_product p WHERE p.id = ids.id
          AND p.is_public AND p.parent_id IS NULL AND p.structure <> 'child' OFFSET 0
    ) p
),
members AS MATERIALIZED (
    SELECT id AS owner, id AS pid FROM listed
    UNION ALL
    SELECT l.id, c.id FROM listed l
    CROSS JOIN LATERAL (
        SELECT c.id FROM catalogue_product c WHERE c.parent_id = l.id AND c.is_public OFFSET 0
    ) c
),
stock AS MATERIALIZED (
    SELECT m.owner, s.partner_id, s.price, s.num_in_stock, s.num_allocated
    FROM members m
    CROSS JOIN LATERAL (
        SELECT * FROM partner_stockrecord s WHERE s.product_id = m.pid OFFSET 0
    ) s
),
sales AS (
    SELECT owner, min(price) AS price, bool_or(num_in_stock - coalesce(num_allocated, 0) > 0) AS in_stock
    FROM stock
    WHERE %(sales)s::int IS NULL OR partner_id = %(sales)s::int
    GROUP BY owner
)"""

_MEMBERS_SQL = _LISTED_SQL + """,
attribute_values AS MATERIALIZED (
    SELECT m.owner, v.attribute_id, a.code, a.type, btrim(v.value_text) AS value_text,
           coalesce(v.value_float, v.value_integer::float) AS number, o.option, v.value_boolean AS flag
    FROM members m
    CROSS JOIN LATERAL (
        SELECT * FROM catalogue_productattributevalue v WHERE v.product_id = m.pid OFFSET 0
    ) v
    JOIN catalogue_productattribute a ON a.id = v.attribute_id
    LEFT JOIN LATERAL (
        SELECT o.option FROM catalogue_attributeoption o WHERE o.id = v.value_option_id OFFSET 0
    ) o ON true
)
"""

#: One statement per batch: the search documents, the listing rows and the number facets. Rows whose values did not change are not rewritten (no index churn
#: when 1C sends the same catalogue again), stale facets are deleted and missing ones inserted.
_REFRESH_SQL = f"""
WITH {_MEMBERS_SQL},
texts AS (
    SELECT owner, string_agg(DISTINCT coalesce(option, value_text), E'\\n') AS text
    FROM attribute_values
    WHERE code <> ALL(%(not_text)s)
      AND ((type = 'option' AND option IS NOT NULL) OR (type = 'text' AND value_text <> ''))
    GROUP BY owner
),
value_lists AS (
    SELECT owner, array_agg(DISTINCT facet ORDER BY facet) AS facets FROM (
        SELECT owner, 'v' || attribute_id || ':' || left(option, 255) AS facet FROM attribute_values
        WHERE type = 'option' AND option IS NOT NULL AND code <> ALL(%(not_text)s)
        UNION ALL
        SELECT owner, 'v' || attribute_id || ':' || left(value_text, 255) FROM attribute_values
        WHERE type = 'text' AND code LIKE %(characteristic)s AND value_text <> ''
        UNION ALL
        -- Text and yes/no properties a manager made filters (switched_on_properties).
        SELECT owner, 'v' || attribute_id || ':' || CASE WHEN type = 'boolean'
            THEN CASE WHEN flag THEN %(yes)s ELSE %(no)s END ELSE left(value_text, 255) END
        FROM attribute_values
        WHERE attribute_id = ANY(%(switched_on)s::int[])
          AND ((type = 'text' AND value_text <> '') OR (type = 'boolean' AND flag IS NOT NULL))
        UNION ALL
        SELECT owner, 'w' || partner_id FROM stock
        WHERE num_in_stock > 0 AND (%(sales)s::int IS NULL OR partner_id <> %(sales)s::int)
    ) f
    GROUP BY owner
),
identifier_lists AS (
    SELECT owner, array_agg(DISTINCT identifier ORDER BY identifier) AS identifiers FROM (
        SELECT owner, left(lower(value_text), 255) AS identifier FROM attribute_values
        WHERE code = ANY(%(identifiers)s) AND value_text <> ''
        UNION ALL
        SELECT m.owner, left(lower(btrim(x.value)), 255)
        FROM members m
        CROSS JOIN LATERAL (SELECT p.code, p.upc FROM catalogue_product p WHERE p.id = m.pid OFFSET 0) p
        CROSS JOIN LATERAL (VALUES (p.code), (p.upc)) AS x(value)
        WHERE coalesce(btrim(x.value), '') <> ''
    ) i
    GROUP BY owner
),
category_lists AS (
    SELECT l.id AS owner, array_agg(DISTINCT pc.category_id ORDER BY pc.category_id) AS categories
    FROM listed l CROSS JOIN LATERAL (
        SELECT pc.category_id FROM catalogue_productcategory pc WHERE pc.product_id = l.id OFFSET 0
    ) pc
    GROUP BY l.id
),
documents AS (
    SELECT l.id AS product_id, left(l.title, 255) AS title,
           concat_ws(E'\\n', nullif(btrim(regexp_replace(coalesce(l.description, ''), '<[^>]*>', ' ', 'g')), ''),
                     t.text) AS text
    FROM listed l
    LEFT JOIN texts t ON t.owner = l.id
),
written_documents AS (
    INSERT INTO search_productdocument AS d (product_id, title, text, title_stems, text_stems)
    SELECT c.product_id, c.title, c.text, '', ''
    FROM documents c
    LEFT JOIN LATERAL (
        SELECT * FROM search_productdocument o WHERE o.product_id = c.product_id OFFSET 0
    ) old ON true
    WHERE old.product_id IS NULL OR (old.title, old.text) IS DISTINCT FROM (c.title, c.text)
    ON CONFLICT (product_id) DO UPDATE SET title = EXCLUDED.title, text = EXCLUDED.text
    RETURNING d.title
),
written_words AS (
    INSERT INTO search_searchword (word)
    {_TITLE_WORDS_SQL.format(titles="written_documents")}
    ON CONFLICT DO NOTHING
    RETURNING 1
),
listings AS (
    SELECT l.id AS product_id, left(l.title, 255) AS title, sa.price, coalesce(sa.in_stock, false) AS in_stock,
           l.date_created, coalesce(r.num_purchases, 0) AS popularity,
           coalesce(cl.categories, '{{}}'::integer[]) AS categories,
           coalesce(vl.facets, '{{}}'::text[]) AS facets,
           coalesce(il.identifiers, '{{}}'::text[]) AS identifiers
    FROM listed l
    LEFT JOIN sales sa ON sa.owner = l.id
    LEFT JOIN value_lists vl ON vl.owner = l.id
    LEFT JOIN category_lists cl ON cl.owner = l.id
    LEFT JOIN identifier_lists il ON il.owner = l.id
    LEFT JOIN LATERAL (
        SELECT r.num_purchases FROM analytics_productrecord r WHERE r.product_id = l.id OFFSET 0
    ) r ON true
),
written_listings AS (
    INSERT INTO search_productlisting AS d
        (product_id, title, price, in_stock, date_created, popularity, categories, facets, identifiers)
    SELECT c.product_id, c.title, c.price, c.in_stock, c.date_created, c.popularity, c.categories, c.facets,
           c.identifiers
    FROM listings c
    LEFT JOIN LATERAL (
        SELECT * FROM search_productlisting o WHERE o.product_id = c.product_id OFFSET 0
    ) old ON true
    WHERE old.product_id IS NULL
       OR (old.title, old.price, old.in_stock, old.date_created, old.popularity, old.categories, old.facets,
           old.identifiers)
          IS DISTINCT FROM (c.title, c.price, c.in_stock, c.date_created, c.popularity, c.categories, c.facets,
           c.identifiers)
    ON CONFLICT (product_id) DO UPDATE SET
        title = EXCLUDED.title, price = EXCLUDED.price, in_stock = EXCLUDED.in_stock,
        date_created = EXCLUDED.date_created, popularity = EXCLUDED.popularity,
        categories = EXCLUDED.categories, facets = EXCLUDED.facets, identifiers = EXCLUDED.identifiers
    RETURNING 1
),
wanted AS (
    SELECT DISTINCT owner AS product_id, 'n'::varchar AS kind, attribute_id AS key, ''::varchar AS value, number
    FROM attribute_values
    WHERE type IN ('float', 'integer') AND number IS NOT NULL
),
stale AS (
    -- The batch's facet rows read by the index, then one anti-join against all it wants
    -- (hashed): with the NOT EXISTS inside the lateral, every product scanned every
    -- wanted row, 85 ms of a 1,000-product batch's 150. The rows to delete are then
    -- found by their key as an array: joined to the table, the lagging statistics of an
    -- import had PostgreSQL hash the whole facet table for every batch (80 ms a batch at
    -- 196,000 facets, growing with the catalogue).
    DELETE FROM search_productfacet f
    WHERE f.id = ANY(ARRAY(
        SELECT old.id
        FROM unnest(%(ids)s::int[]) AS ids(id)
        CROSS JOIN LATERAL (
            SELECT o.id, o.product_id, o.kind, o.key, o.value, o.number
            FROM search_productfacet o WHERE o.product_id = ids.id OFFSET 0
        ) old
        WHERE NOT EXISTS (
            SELECT 1 FROM wanted w
            WHERE w.product_id = old.product_id AND w.kind = old.kind AND w.key = old.key AND w.value = old.value
              AND w.number IS NOT DISTINCT FROM old.number
        )
    ))
    RETURNING 1
),
written_facets AS (
    INSERT INTO search_productfacet (product_id, kind, key, value, number)
    SELECT w.product_id, w.kind, w.key, w.value, w.number FROM wanted w
    WHERE NOT EXISTS (
        SELECT 1 FROM search_productfacet f
        WHERE f.product_id = w.product_id AND f.kind = w.kind AND f.key = w.key AND f.value = w.value
          AND f.number IS NOT DISTINCT FROM w.number
        OFFSET 0
    )
    RETURNING 1
)
SELECT DISTINCT attribute_id FROM attribute_values
WHERE (type = 'option' AND option IS NOT NULL AND code <> ALL(%(not_text)s))
   OR (type = 'text' AND code LIKE %(characteristic)s AND value_text <> '')
   OR (type IN ('float', 'integer') AND number IS NOT NULL)
   OR (code LIKE %(property)s AND ((type = 'text' AND value_text <> '') OR (type = 'boolean' AND flag IS NOT NULL)))
"""


#: The stock-only refresh of a batch: price, availability and the warehouse facets
#: (``w…``) of existing listing rows, the other facets kept as they are. It returns the
#: ids it did not refresh: products no longer listed, or listed without a row yet.
_REFRESH_STOCK_SQL = f"""
WITH {_LISTED_SQL},
warehouses AS (
    SELECT owner, array_agg(DISTINCT 'w' || partner_id) AS facets FROM stock
    WHERE num_in_stock > 0 AND (%(sales)s::int IS NULL OR partner_id <> %(sales)s::int)
    GROUP BY owner
),
computed AS (
    SELECT o.product_id, sa.price, coalesce(sa.in_stock, false) AS in_stock,
           ARRAY(
               SELECT DISTINCT f FROM unnest(
                   ARRAY(SELECT x FROM unnest(o.facets) x WHERE x NOT LIKE 'w%%') || coalesce(w.facets, '{{}}'::text[])
               ) AS f ORDER BY f
           ) AS facets
    FROM listed l
    JOIN LATERAL (SELECT * FROM search_productlisting o WHERE o.product_id = l.id OFFSET 0) o ON true
    LEFT JOIN sales sa ON sa.owner = l.id
    LEFT JOIN warehouses w ON w.owner = l.id
),
written AS (
    UPDATE search_productlisting t SET price = c.price, in_stock = c.in_stock, facets = c.facets
    FROM computed c
    WHERE t.product_id = c.product_id
      AND (t.price, t.in_stock, t.facets) IS DISTINCT FROM (c.price, c.in_stock, c.facets)
    RETURNING 1
)
SELECT ids.id FROM unnest(%(ids)s::int[]) AS ids(id)
WHERE NOT EXISTS (SELECT 1 FROM computed c WHERE c.product_id = ids.id)
"""


def _switched_params():
    """The refresh's parameters for the text and yes/no properties made filters (:func:`switched_on_properties`)."""
    return {
        "switched_on": switched_on_properties(),
        "property": PROPERTY_PREFIX.replace("_", "\\_") + "%",
        "yes": YES,
        "no": NO,
    }


def _refresh_params(ids):
    """The parameters of :data:`_REFRESH_SQL` for the listed products ``ids``."""
    return {
        "ids": list(ids),
        "sales": sales_partner_id(),
        "not_text": list(IDENTIFIER_ATTRIBUTES + NOT_SEARCH_TEXT),
        "identifiers": list(IDENTIFIER_ATTRIBUTES),
        "characteristic": CHARACTERISTIC_PREFIX.replace("_", "\\_") + "%",
        **_title_word_params(),
        **_switched_params(),
    }


def _refresh_batch_sql(ids):
    """
    The rows computed by PostgreSQL, in one statement whatever the batch (after the
    lookup of rows to drop): nothing travels to Python, and unchanged rows are not
    rewritten.
    """
    params = _refresh_params(ids)
    product_table = connection.ops.quote_name(Product._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        # The lookups' estimates multiply into a cost that starts JIT compilation, which
        # takes seconds for statements that run in milliseconds.
        cursor.execute("SET LOCAL jit = off")
        # Rows of products no longer listed in this batch (hidden, now a variant, deleted).
        cursor.execute(
            f"SELECT ids.id FROM unnest(%(ids)s::int[]) AS ids(id) "
            f"LEFT JOIN {product_table} p ON p.id = ids.id "
            f"WHERE p.id IS NULL OR NOT p.is_public OR p.parent_id IS NOT NULL OR p.structure = 'child'",
            params,
        )
        _delete_rows([row[0] for row in cursor.fetchall()])
        cursor.execute(_REFRESH_SQL, params)
        attribute_ids = {row[0] for row in cursor.fetchall()}
    if attribute_ids:
        ensure_filter_settings(attribute_ids)
