"""
What the storefront lists: the browse pages, the home page, search, filters and their
counts, read from the listing rows (:mod:`.models`) that the import keeps current.

Listing pages read the narrow listing rows (:class:`~.models.ProductListing`), search
reads the search documents. A listing page costs a fixed number of queries whatever its
size and whatever the filters: the page of rows, one aggregate (its count, the in-stock
count, the price range), one pass over the rows for every filter count (:func:`facets`:
the values of a filter in use are counted with that filter left out, in the same pass,
so that they stay alternatives), the number ranges, and the page's products with
everything their cards need (:func:`for_listing`).

Categories and values are matched through the listing row's lists (``&&`` on GIN-indexed
arrays on PostgreSQL), never through a list of ids sent from Python: a top category of
20,000 products costs the same few statements as a leaf.
"""

import functools
import operator
import re
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, Replace
from django.utils.translation import gettext_lazy
from oscar.core.loading import get_model
from rapidfuzz.distance import OSA

from integration_1c import conf
from integration_1c.services.bulk import array_literal
from shop.apps.partner.display import natural_key  # the product page's order of values, for filters too
from shop.apps.partner.prefetch import prefetch_for_strategy

from . import caching, indexing
from .filters import Facet, FacetValue
from .models import FilterSetting, ProductDocument, ProductFacet, ProductListing, SearchWord

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
Option = get_model("catalogue", "Option")
ProductAttribute = get_model("catalogue", "ProductAttribute")
Partner = get_model("partner", "Partner")

# Sort keys offered on listing pages (the values of Oscar's search form where they exist).
RELEVANCY = "relevancy"
POPULAR = "popular"
NEWEST = "newest"
PRICE_HIGH_TO_LOW = "price-desc"
PRICE_LOW_TO_HIGH = "price-asc"
TITLE_A_TO_Z = "title-asc"

#: Suggestions shown under the search box.
SUGGESTIONS = 8

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


# -- what may be listed ------------------------------------------------------------------------


def browsable_products():
    """
    Products a shopper may browse: public, and either standalone or a parent (the
    variants of a parent are sold from the parent's page, never listed on their own).
    """
    return Product.objects.filter(
        is_public=True,
        parent__isnull=True,
        structure__in=[Product.STANDALONE, Product.PARENT],
    )


def browsable_categories():
    """Categories shown to shoppers: public, with all their ancestors public (1C groups hidden by an import are not)."""
    return Category.objects.browsable()


def top_categories():
    """The public root categories, in tree order: the first level of the 1C groups."""
    return browsable_categories().filter(depth=1).order_by("path")


def subtree_ids(category):
    """Ids of ``category`` and of its public descendants (a 1C catalogue puts products in the deepest group)."""
    return list(
        Category.objects.filter(path__startswith=category.path, is_public=True)
        .order_by()
        .values_list("pk", flat=True)
    )


def listings():
    """Every listed product's listing row (only listed products have one)."""
    indexing.flush_pending()
    return ProductListing.objects.all()


def listed_category_ids():
    """Ids of the categories that hold at least one listed product directly."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT unnest(categories) FROM {ProductListing._meta.db_table}")
            return [row[0] for row in cursor.fetchall()]
    return sorted({pk for ids in ProductListing.objects.values_list("categories", flat=True) for pk in ids})


def in_category(rows, category):
    """Rows of products in ``category`` or any public category below it (a GIN lookup on their category lists)."""
    return rows.filter(categories__overlaps=subtree_ids(category))


# -- search ---------------------------------------------------------------------------------------


def fold_text(text):
    """Lowercase, with ё read as е: shoppers rarely type ё, 1C titles often have it."""
    return (text or "").lower().replace("ё", "е")


def query_words(query):
    return _WORD.findall(fold_text(query))


def identifier_hits(query):
    """Listed products whose article, barcode, 1C code or UPC (or a variant's) is exactly ``query``."""
    identifier = (query or "").strip().lower()
    if not identifier:
        return []
    return list(
        ProductListing.objects.filter(identifiers__overlaps=[identifier[:255]])
        .order_by()
        .values_list("product_id", flat=True)[:1000]
    )


class Match(NamedTuple):
    """
    A search's listing rows, their ids best first (see :func:`match`), the identifier
    hits, and — when nothing matched the words as typed — the corrected query that was
    searched instead («кабль» -> «кабель»), else "".
    """

    rows: object
    ordered: list
    hits: list
    corrected: str = ""


def match(rows, query):
    """
    What ``query`` finds among ``rows``: each word in any of its forms («дрели» finds
    «Дрель»), in the title or in the rest of the search text; or the whole query is an
    identifier; or — when that finds nothing — titles with a word close to the query's
    (a near miss: «дрэль»). Titles rank above descriptions.

    The matching products are read once, already in relevancy order (identifier hits,
    rank, popularity, the newest), and the rows narrowed by one array of their ids: the
    page's count, its filter counts and its page then read the listing rows by primary
    key rather than joining the whole listing to the documents again, and an unfiltered
    page of results is a slice of that order. What a query matches is cached until the
    listing rows change.
    """
    words = query_words(query)
    key = (tuple(words), (query or "").strip().lower())
    hits, ordered, fixes = caching.cached_fragment("match", key, lambda: _match(query, words))
    if not ordered:
        return Match(rows.none(), [], [])
    matched = near_misses(words, fixes) if fixes else _matching_documents(words)
    rank = matched.filter(product_id=OuterRef("product_id")).values("_rank")[:1]
    found = rows.filter(product_id__in_array=ordered).annotate(
        _rank=Coalesce(Subquery(rank, output_field=FloatField()), Value(0.0)),
        _id_hit=_id_hit(hits),
    )
    corrected = " ".join(fixes[word][0] for word in words) if fixes else ""
    if fixes and all(is_word_form(word, fixes[word][0]) for word in words):
        corrected = ""  # «кроссовок» found «кроссовки»: a search, not a correction
    return Match(found, ordered, hits, corrected if corrected != " ".join(words) else "")


def _match(query, words):
    """
    ``(identifier hits, the listed matches' ids best first, the corrections searched
    for when the words as typed found nothing, else None)`` of a query.
    """
    hits = identifier_hits(query)
    ordered = _ranked_ids(_matching_documents(words), hits) if words else _ranked_ids(None, hits)
    if words and not ordered:
        fixes = corrections(list(dict.fromkeys(words)))
        near = _ranked_ids(near_misses(words, fixes), hits)
        return hits, near, fixes if near else None
    return hits, ordered, None


def _ranked_ids(documents, hits):
    """
    The ids of the listed products among ``documents`` (annotated with ``_rank``) and
    ``hits``, best first: identifier hits, then rank, popularity, the newest. One
    statement on PostgreSQL (the documents joined to their listing rows and sorted
    there); other databases sort in Python.
    """
    columns = ("product_id", "popularity", "date_created")
    if connection.vendor != "postgresql":
        ranks = dict(documents.order_by().values_list("product_id", "_rank")) if documents is not None else {}
        data = ProductListing.objects.filter(product_id__in=set(ranks) | set(hits)).values_list(*columns)
        found = set(hits)
        ordered = sorted(
            data, key=lambda row: (row[0] in found, ranks.get(row[0], 0.0), row[1], row[2], row[0]), reverse=True
        )
        return [row[0] for row in ordered]
    parts, params = [], []
    if documents is not None:
        try:
            sql, params = documents.order_by().values("product_id", "_rank").query.sql_with_params()
            parts.append(sql)
            params = list(params)
        except EmptyResultSet:
            pass
    if hits:
        parts.append("SELECT unnest(%s::int[]) AS product_id, 0.0::float8 AS _rank")
        params.append(array_literal(hits))
    if not parts:
        return []
    matched = " UNION ALL ".join(f"({part})" for part in parts)
    statement = (
        f"SELECT l.product_id FROM (SELECT product_id, max(_rank) AS rank FROM ({matched}) u GROUP BY product_id) m "
        f"JOIN {ProductListing._meta.db_table} l ON l.product_id = m.product_id "
        "ORDER BY (l.product_id = ANY(%s::int[])) DESC, m.rank DESC, "
        "l.popularity DESC, l.date_created DESC, l.product_id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, array_literal(list(hits))])
        return [row[0] for row in cursor.fetchall()]


def search(rows, query):
    """Listing rows matching ``query`` (see :func:`match`), annotated for :func:`sort_documents`' relevancy."""
    return match(rows, query).rows


def by_relevancy(found, rows=None):
    """
    The ids of a search's rows best first (see :func:`match`) — of ``rows``, the
    search's rows narrowed by filters, when given: the matches that pass the filters,
    kept in the search's order.
    """
    if rows is None:
        return found.ordered
    passing = set(rows.order_by().values_list("product_id", flat=True))
    return [pk for pk in found.ordered if pk in passing]


def _matching_documents(words, prefix=False, titles_only=False):
    """
    Search documents having every word (the last as a prefix when asked; in the title
    only when asked), with a ``_rank``.
    """
    documents = ProductDocument.objects.all()
    if not words:
        return documents.none()
    if connection.vendor == "postgresql":
        return _search_postgresql(documents, words, prefix, titles_only)
    return _search_stems(documents, words, prefix, titles_only)


def _tsquery(words, prefix=False, titles_only=False):
    """
    The ``tsquery`` of ``words`` as SQL and its parameters: the words ANDed in any of
    their forms (``russian``), all in the title (weight A) when asked. With ``prefix``
    the last word may be unfinished: it matches words that start with it as typed
    (``simple``: «сау» finds «Сауна», where its Russian stem «са» would find everything
    starting with «са») or any form of it as a whole word (the typed «дрели» is «дрел»).
    Safe: the words hold only word characters.
    """
    weight = ":A" if titles_only else ""
    words = [word for word in words if word]
    whole = words[:-1] if prefix else words
    parts, params = [], []
    if whole:
        parts.append("to_tsquery('russian'::regconfig, %s)")
        params.append(" & ".join(f"{word}{weight}" for word in whole))
    if prefix and words:
        parts.append("(to_tsquery('russian'::regconfig, %s) || to_tsquery('simple'::regconfig, %s))")
        params += [f"{words[-1]}{weight}", f"{words[-1]}:*{weight[1:]}"]
    return "(" + " && ".join(parts) + ")", params


def _id_hit(hits):
    """1 for an identifier match, else 0 (a constant when there is none)."""
    if not hits:
        return Value(0, output_field=IntegerField())
    return Case(When(product_id__in=hits, then=Value(1)), default=Value(0), output_field=IntegerField())


def _search_postgresql(documents, words, prefix=False, titles_only=False):
    return _matching_tsquery(documents, *_tsquery(words, prefix, titles_only))


def _matching_tsquery(documents, tsquery, params):
    """``documents`` matching the ``tsquery`` SQL (with its ``params``), ranked by it as ``_rank``."""
    match = RawSQL(f"search_vector @@ {tsquery}", params, output_field=BooleanField())
    rank = RawSQL(f"ts_rank(search_vector, {tsquery})", params, output_field=FloatField())
    return documents.annotate(_match=match).filter(_match=True).annotate(_rank=rank)


def _search_stems(documents, words, prefix=False, titles_only=False):
    """The SQLite search: every word's stem must start a stem of the title (or of the text)."""
    words_match = Q()
    title_score = Value(0.0, output_field=FloatField())
    for index, word in enumerate(words):
        last = prefix and index == len(words) - 1
        needle = " " + (word if last else indexing.stem(word))
        in_title = Q(title_stems__contains=needle)
        words_match &= in_title if titles_only else in_title | Q(text_stems__contains=needle)
        title_score = title_score + Case(
            When(title_stems__contains=needle, then=Value(1.0)), default=Value(0.1), output_field=FloatField()
        )
    return documents.filter(words_match).annotate(_rank=title_score)


#: How many corrections of one word a near-miss search tries.
CORRECTIONS = 3
#: Words a correction may come from, per misspelt word, nearest by trigrams first.
CORRECTION_CANDIDATES = 40
#: The trigram similarity (pg_trgm) from which a title word is compared with a misspelt one.
CORRECTION_SIMILARITY = 0.2


def typos_allowed(word):
    """
    Edits (a letter missed, added, changed, or two swapped) a word of this length may
    hold and still be meant as a title word, as search engines count them: none below 3
    letters, 1 up to 5, 2 beyond.
    """
    if len(word) < 3:
        return 0
    return 1 if len(word) <= 5 else 2


def _typos(word, other):
    """Edits between two words, or between their stems («дрэли»/«дрель»: дрэл/дрел, one)."""
    return min(OSA.distance(word, other), OSA.distance(indexing.stem(word), indexing.stem(other)))


def _candidate_words(words):
    """Title words (:class:`~.models.SearchWord`) that may be what each of ``words`` meant."""
    candidates = {word: set() for word in words}
    if connection.vendor == "postgresql":
        # A misspelt short word shares few trigrams with the word meant («дрэли» and
        # «дрель» share two of ten): the trigram index is asked for looser matches than
        # pg_trgm's default, and the edits decide (:func:`corrections`).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(CORRECTION_SIMILARITY)])
            cursor.execute(
                "SELECT q.word, w.word FROM unnest(%s::text[]) AS q(word) CROSS JOIN LATERAL ("
                "SELECT s.word FROM search_searchword s WHERE s.word %% q.word "
                "ORDER BY similarity(s.word, q.word) DESC, s.word LIMIT %s) w",
                [list(words), CORRECTION_CANDIDATES],
            )
            for word, other in cursor.fetchall():
                candidates[word].add(other)
        return candidates
    # The embedded demo's few thousand words: compared in Python, by length first.
    for other in SearchWord.objects.values_list("word", flat=True).iterator():
        for word in words:
            if abs(len(word) - len(other)) <= 2:
                candidates[word].add(other)
    return candidates


def corrections(words):
    """
    For each of ``words``, the title words a shopper may have meant, nearest first: the
    word itself when titles have it, else the words within :func:`typos_allowed` edits
    of it (or of its stem), at most :data:`CORRECTIONS`. A word with none is left out
    of the result: nothing in the titles is close to it.
    """
    found = {}
    for word, others in _candidate_words(words).items():
        allowed = typos_allowed(word)
        if word in others:
            found[word] = [word]
            continue
        close = sorted(
            (typos, abs(len(other) - len(word)), other)
            for other in others
            if (typos := _typos(word, other)) <= allowed
        )
        if close:
            found[word] = [other for _, _, other in close[:CORRECTIONS]]
    return found


#: The shortest stem :func:`is_word_form` compares («ламп», «брюк»): shorter ones say too little.
WORD_FORM_STEM = 4
#: The vowels Russian inserts before a stem's last consonant in some forms (кроссовк-и, кроссов-о-к).
FLEETING_VOWELS = "ое"


def is_word_form(typed, correction):
    """
    Whether ``typed`` is a form of the title word ``correction`` that the stemmer does
    not bring to the same stem, rather than a typo: the shopper typed a correct word
    and must not be told that nothing matched it. Snowball leaves the genitive plural
    whole («кроссовок» stays «кроссовок», «кроссовки» is «кроссовк»), and a suffix
    changes the stem («сковородки»: «сковородк», «сковорода»: «сковород»). So:
    ``typed`` begins with the correction's stem, or with that stem but its last letter
    followed by a fleeting «о»/«е» and that letter («кроссов» + «о» + «к»,
    «полотен» + «е» + «ц»). A typo after a whole stem («дрелт») passes too; the
    results are the same, only the note is left out.
    """
    if typed == correction:
        return True
    root = indexing.stem(correction)
    if len(root) < WORD_FORM_STEM:
        return False
    if typed.startswith(root):
        return True
    head, last = root[:-1], root[-1]
    return (
        typed.startswith(head)
        and typed[len(head) : len(head) + 1] in tuple(FLEETING_VOWELS)
        and typed[len(head) + 1 : len(head) + 2] == last
    )


def near_misses(words, found=None):
    """
    Search documents whose title has, for every word of the query, one of its
    :func:`corrections` (``found``, looked up when not given): a near miss, «кабль»
    finds «Кабель», ranked like a search of the corrected words; none when a word has
    no correction.
    """
    words = list(dict.fromkeys(word for word in words if word))
    documents = ProductDocument.objects.all()
    nothing = documents.none().annotate(_rank=Value(0.0, output_field=FloatField()))
    if not words:
        return nothing
    if found is None:
        found = corrections(words)
    if any(word not in found for word in words):
        return nothing
    alternatives = [found[word] for word in words]
    if connection.vendor == "postgresql":
        either = " & ".join("(" + " | ".join(f"{word}:A" for word in options) + ")" for options in alternatives)
        return _matching_tsquery(documents, "to_tsquery('russian'::regconfig, %s)", [either])
    in_titles = Q()
    for options in alternatives:
        in_titles &= functools.reduce(
            operator.or_, (Q(title_stems__contains=" " + indexing.stem(word)) for word in options)
        )
    return documents.filter(in_titles).annotate(_rank=Value(1.0, output_field=FloatField()))


def suggestions(query, limit=SUGGESTIONS):
    """
    What the search box offers while a shopper types: products whose title words start
    like the typed ones (the last word may be unfinished), best first — or, when none
    do, the near misses of the words typed so far («дрэль» offers the drills) — and
    matching categories.
    """
    words = query_words(query)
    hits = identifier_hits(query)[:limit]
    # Straight from the search documents, best first, the top few only: a prefix of
    # three letters can match tens of thousands of products.
    best = [
        pk
        for pk in _matching_documents(words, prefix=True, titles_only=True)
        .order_by("-_rank", "-product_id")
        .values_list("product_id", flat=True)[: limit * 2]
        if pk not in hits
    ]
    if not hits and not best and words:
        best = list(
            near_misses(words).order_by("-_rank", "-product_id").values_list("product_id", flat=True)[: limit * 2]
        )
    order = (hits + best)[: limit * 2]
    found = {row["product_id"]: row for row in listings().filter(product_id__in=order).values("product_id", "title", "price")}
    rows = [found[pk] for pk in order if pk in found][:limit]
    slugs = dict(Product.objects.filter(pk__in=[row["product_id"] for row in rows]).values_list("pk", "slug"))
    for row in rows:
        row["slug"] = slugs.get(row["product_id"], "")
    categories = []
    if words:
        condition = Q()
        for word in words:
            condition &= Q(_name=word) | Q(_name__startswith=word) | Q(_name__contains=" " + word)
        categories = list(
            browsable_categories()
            .annotate(_name=Replace(Lower("name"), Value("ё"), Value("е")))
            .filter(condition)
            .order_by("depth", "path")[:3]
        )
        parents = parent_names(categories)
        for category in categories:
            category.parent_name = parents.get(category.pk, "")
    return rows, categories


def parent_names(categories):
    """
    ``{category id: its parent's name}`` of ``categories`` below the top level, in one
    query: what tells two «Футболки» apart (Мужская одежда, Женская одежда).
    """
    parent_paths = {category.pk: category.path[: -category.steplen] for category in categories if category.depth > 1}
    if not parent_paths:
        return {}
    names = dict(Category.objects.filter(path__in=set(parent_paths.values())).values_list("path", "name"))
    return {pk: names.get(path, "") for pk, path in parent_paths.items()}


# -- filters and counts ---------------------------------------------------------------------------


def filter_condition(filters, skip=None):
    """
    The condition on listing rows for ``filters``; ``skip`` (``"wh"`` or an attribute
    id) leaves one filter out, to count that filter's own values as alternatives.
    """
    condition = Q()
    if filters.price_min is not None:
        condition &= Q(price__gte=filters.price_min)
    if filters.price_max is not None:
        condition &= Q(price__lte=filters.price_max)
    if filters.in_stock:
        condition &= Q(in_stock=True)
    if filters.warehouses and skip != "wh":
        condition &= Q(facets__overlaps=[ProductListing.warehouse_facet(pk) for pk in filters.warehouses])
    for attribute_id, values in filters.values.items():
        if attribute_id != skip:
            condition &= Q(facets__overlaps=[ProductListing.value_facet(attribute_id, value) for value in values])
    for attribute_id, (low, high) in filters.ranges.items():
        numbers = set_numbers().filter(key=attribute_id)
        if low is not None:
            numbers = numbers.filter(number__gte=low)
        if high is not None:
            numbers = numbers.filter(number__lte=high)
        condition &= Q(product_id__in=numbers.values("product_id"))
    return condition


def apply_filters(rows, filters, skip=None):
    """``rows`` narrowed by ``filters`` (see :func:`filter_condition`)."""
    condition = filter_condition(filters, skip)
    return rows.filter(condition) if condition else rows


def filter_attributes():
    """attribute id -> (name, type, position) of the attributes a manager made filters."""
    return {
        row["attribute_id"]: (row["attribute__name"], row["attribute__type"], row["position"])
        for row in FilterSetting.objects.filter(is_filterable=True).values(
            "attribute_id", "attribute__name", "attribute__type", "position"
        )
    }


def _boolean(condition):
    """A condition as a boolean column (an empty condition is true)."""
    if not condition:
        return Value(True, output_field=BooleanField())
    return ExpressionWrapper(condition, output_field=BooleanField())


def listing_totals(base, filters):
    """
    One aggregate over the rows ``base``: how many pass ``filters`` (the page count),
    how many of those are in stock, and the price range of ``base`` (for the price filter).
    """
    condition = filter_condition(filters)
    in_stock = condition & Q(in_stock=True)
    try:
        sql, params = base.order_by().values("product_id").query.sql_with_params()
    except EmptyResultSet:  # rows.none(): an empty search
        return dict(_NO_TOTALS)
    return caching.cached(
        "totals",
        f"{sql} | {filters.querystring()}",
        params,
        lambda: base.aggregate(
            count=Count("product_id", filter=condition) if condition else Count("product_id"),
            in_stock=Count("product_id", filter=in_stock),
            price_low=Min("price"),
            price_high=Max("price"),
        ),
    )


def _facet_counts(base, filters):
    """
    ``(counts, totals)`` of the rows ``base`` under ``filters``:

    * ``counts``: ``{"all": {facet: n}, <skip>: {facet: n}, …}``, how many rows have each
      facet among those passing every filter ("all") and, for every filter in use (an
      attribute id or ``"wh"``), among those passing the others;
    * ``totals``: what :func:`listing_totals` gives: how many rows pass the filters, how
      many of those are in stock, and the price range of ``base``.

    The counts of ``base`` with no filter at all — of all its rows and of those in
    stock — are one pass over its rows, kept in the cache (:func:`_count_pass`) and
    shared by every page of ``base``: they are the unfiltered page's panel, the price
    range of every filtered one, and the counts of whatever is filtered by «in stock»
    alone or by one filter's values alone (counted with no other filter). What else a
    filtered page counts is a second pass over only the rows that some of its
    conditions let through: a value or warehouse filter finds them through the GIN
    index of the rows' lists, so «Bosch» among all products reads the Bosch rows, not
    all 100,000.
    """
    plain_counts, plain_totals = _count_pass(base, {"all": Q()}, shared=_is_whole_listing(base))
    if not filters.active:
        return {"all": plain_counts["all"]}, plain_totals
    # Beside the value and warehouse filters, which each key but "all" leaves one of out,
    # every condition holds the same price, stock and number ranges.
    if filters.price_min is None and filters.price_max is None and not filters.ranges:
        from_plain = plain_counts[_IN_STOCK if filters.in_stock else "all"]
    else:
        from_plain = None
    kinds = set(filters.values) | ({"wh"} if filters.warehouses else set())
    keys = ["all", *filters.values] + (["wh"] if filters.warehouses else [])
    counts, narrowing = {}, {}
    for key in keys:
        if from_plain is not None and not kinds - {key}:
            counts[key] = from_plain
        else:
            narrowing[key] = filter_condition(filters, skip=None if key == "all" else key)
    totals = dict(plain_totals)
    if "all" in counts:
        totals.update(count=plain_totals["in_stock" if filters.in_stock else "count"])
        totals.update(in_stock=plain_totals["in_stock"])
    if narrowing:
        passing = base.filter(functools.reduce(operator.or_, narrowing.values()))
        narrowed_counts, narrowed_totals = _count_pass(passing, narrowing)
        counts.update((key, narrowed_counts[key]) for key in narrowing)
        if "all" in narrowing:
            totals.update(count=narrowed_totals["count"], in_stock=narrowed_totals["in_stock"])
    return counts, totals


#: The key of :func:`_count_pass`' counts of the rows of its first condition that are in stock.
_IN_STOCK = "in_stock"


def _count_pass(rows, conditions, shared=False, recompute=False):
    """
    One pass over ``rows`` (cached until the listing rows change), expanding each row's
    facet list (``unnest`` on PostgreSQL, ``json_each`` on SQLite) with one more, empty,
    entry that stands for the row itself: ``(counts, totals)``, how many rows passing
    each of ``conditions`` (key -> ``Q``; the first one also counted among the rows in
    stock, under :data:`_IN_STOCK`) have each facet, and — from the empty entries — how
    many rows pass the first condition, how many of those are in stock, and the price
    range of all of ``rows``.

    ``shared``: the whole listing's unfiltered pass, which every page of all products
    reads and which reads every row (100–250 ms on 100,000 products): after a change
    the counts of the change before are shown while a background task counts again
    (``caching.cached``'s ``refresh``, :func:`count_whole_listing`). ``recompute``:
    that task's count, stored for the current version.
    """
    names = {key: f"_c{index}" for index, key in enumerate(conditions)}
    annotated = rows.annotate(**{names[key]: _boolean(condition) for key, condition in conditions.items()})
    try:
        sql, params = annotated.order_by().values("facets", "in_stock", "price", *names.values()).query.sql_with_params()
    except EmptyResultSet:  # rows.none(): an empty search
        return {key: {} for key in [*conditions, _IN_STOCK]}, dict(_NO_TOTALS)
    quote = connection.ops.quote_name
    sums = ", ".join(f"SUM(CASE WHEN s.{quote(name)} THEN 1 ELSE 0 END)" for name in names.values())
    first = quote(next(iter(names.values())))
    totals = f"SUM(CASE WHEN s.{first} AND s.in_stock THEN 1 ELSE 0 END), MIN(s.price), MAX(s.price)"
    if connection.vendor == "postgresql":
        expanded = "CROSS JOIN LATERAL unnest(array_append(s.facets, NULL::text)) AS f(value)"
    else:
        expanded = ", json_each(json_insert(s.facets, '$[#]', NULL)) AS f"
    statement = f"SELECT f.value, {sums}, {totals} FROM ({sql}) s {expanded} GROUP BY f.value"
    keys = list(conditions)
    price = ProductListing._meta.get_field("price")

    def count():
        counts, found = {key: {} for key in [*keys, _IN_STOCK]}, dict(_NO_TOTALS)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            for facet, *numbers in cursor.fetchall():
                numbers, (in_stock, low, high) = numbers[: len(keys)], numbers[len(keys) :]
                if facet is None:  # the row itself
                    found.update(
                        count=numbers[0] or 0,
                        in_stock=in_stock or 0,
                        price_low=price.to_python(low) if low is not None else None,
                        price_high=price.to_python(high) if high is not None else None,
                    )
                    continue
                for key, number in zip(keys, numbers):
                    if number:
                        counts[key][facet] = number
                if in_stock:
                    counts[_IN_STOCK][facet] = in_stock
        return counts, found

    if recompute:
        return caching.recompute("counts", statement, params, count)
    return caching.cached("counts", statement, params, count, refresh=_count_whole_listing_later if shared else None)


def count_whole_listing():
    """Count the whole listing's filter values again and keep them for its pages (a background task)."""
    return _count_pass(listings(), {"all": Q()}, recompute=True)


def _count_whole_listing_later():
    from shop import background

    from .tasks import count_whole_listing as task

    background.enqueue(task)


#: The totals of no rows at all.
_NO_TOTALS = {"count": 0, "in_stock": 0, "price_low": None, "price_high": None}


def facets(base, filters):
    """
    The filter panel for the rows ``base`` (a category's or a search's, before the
    shopper's filters): price range, warehouses and every filterable attribute with the
    number of products each value would show — counted with the other filters applied,
    so that the values of one filter stay alternatives.
    """
    attributes = filter_attributes()
    number_keys = [pk for pk, (_, kind, _) in attributes.items() if kind in (ProductAttribute.FLOAT, ProductAttribute.INTEGER)]
    counts, totals = _facet_counts(base, filters)
    by_attribute, warehouse_counts = {}, {}
    for skip, facet_counts in counts.items():
        for facet, n in facet_counts.items():
            prefix, key, value = ProductListing.parse_facet(facet)
            if prefix == ProductListing.WAREHOUSE_PREFIX:
                # A warehouse's count leaves out the warehouse filter (its values are alternatives).
                if skip == ("wh" if filters.warehouses else "all"):
                    warehouse_counts[key] = n
            elif prefix == ProductListing.VALUE_PREFIX and key in attributes:
                # An attribute's values are counted with its own filter left out.
                if skip == (key if key in filters.values else "all"):
                    by_attribute.setdefault(key, {})[value] = n
    for attribute_id, chosen in filters.values.items():
        for value in chosen:  # a chosen value stays visible even when nothing has it now
            by_attribute.setdefault(attribute_id, {}).setdefault(value, 0)

    panel = []
    for attribute_id, values in by_attribute.items():
        if attribute_id not in attributes:
            continue
        name, kind, position = attributes[attribute_id]
        chosen = set(filters.values.get(attribute_id, ()))
        if len(values) < 2 and not chosen:
            continue  # one value for every product filters nothing
        param = f"f{attribute_id}"
        facet = Facet(key=attribute_id, name=name, kind="values", param=param)
        if kind == ProductAttribute.BOOLEAN:
            # A yes/no property: «Да» before «Нет», whatever the language.
            labels = {indexing.YES: gettext_lazy("Yes"), indexing.NO: gettext_lazy("No")}
            ordered = sorted(values.items(), key=lambda item: item[0] != indexing.YES)
        else:
            labels = {}
            ordered = sorted(values.items(), key=lambda item: natural_key(item[0]))
        facet.values = [
            FacetValue(value=labels.get(value, value), count=n, selected=value in chosen, param=param, param_value=value)
            for value, n in ordered
        ]
        panel.append((position, name, facet))

    if number_keys:
        for row in number_ranges(base, number_keys):
            if row["low"] is None or row["low"] == row["high"]:
                continue
            name, _, position = attributes[row["key"]]
            chosen_low, chosen_high = filters.ranges.get(row["key"], (None, None))
            facet = Facet(
                key=row["key"],
                name=name,
                kind="range",
                param=f"n{row['key']}",
                low=row["low"],
                high=row["high"],
                chosen_low=chosen_low,
                chosen_high=chosen_high,
            )
            panel.append((position, name, facet))
    panel.sort(key=lambda item: (item[0], item[1]))

    warehouses, pickup = warehouse_filter(warehouse_counts, filters.warehouses)

    return {
        "totals": totals,
        "attributes": [facet for _, _, facet in panel],
        "warehouses": warehouses,
        "pickup": pickup,
        "price_low": totals["price_low"],
        "price_high": totals["price_high"],
        "in_stock_count": totals["in_stock"] if not filters.in_stock else None,
    }


def warehouse_filter(counts, chosen):
    """
    ``(values, pickup)``: the warehouse filter's checkboxes (``wh``) for the warehouses'
    ``counts`` (partner id -> products in stock there) and the ``chosen`` ones, and
    whether they are pickup points.

    Where a manager made pickup points (``Partner.is_pickup_point``), the filter offers
    them — what a shopper can collect today — in the manager's order, even a single one,
    and not the internal warehouses (a warehouse chosen in an older link stays, to be
    unticked). Without pickup points it offers every warehouse holding some, by name,
    when there are two or more.
    """
    partners = Partner.objects.exclude(code=conf.get("ONEC_SALES_PARTNER_CODE"))
    points = list(partners.pickup_points().values_list("pk", "name"))
    if points:
        offered = [(pk, name) for pk, name in points if counts.get(pk) or pk in chosen]
        known = {pk for pk, _ in points}
        others = sorted(partners.filter(pk__in=[pk for pk in chosen if pk not in known]).values_list("pk", "name"))
        offered += others
    elif counts or chosen:
        names = dict(partners.filter(pk__in=set(counts) | set(chosen)).values_list("pk", "name"))
        offered = sorted(names.items(), key=lambda item: item[1])
        if len(offered) < 2 and not chosen:
            offered = []
    else:
        offered = []
    values = [
        FacetValue(value=name, count=counts.get(pk, 0), selected=pk in chosen, param="wh", param_value=str(pk))
        for pk, name in offered
    ]
    return values, bool(points)


#: What 1C sends for a number property nobody filled in: not a value (the product page hides it too).
UNSET_NUMBER = 0.0


def set_numbers():
    """
    The number rows of range filters that hold a value: 1C unloads an unfilled number as
    0, which would start «Гарантия» at «от 0» and let «до 12» find products whose
    warranty nobody entered.
    """
    return ProductFacet.objects.filter(kind=ProductFacet.NUMBER).exclude(number=UNSET_NUMBER)


def number_ranges(base, keys):
    """
    ``[{"key", "low", "high"}]``: the range of each numeric property ``keys`` over the
    rows ``base``, cached like the counts. The whole listing's ranges read the number
    rows alone: only listed products have any (their rows go with their listing row).
    """
    numbers = set_numbers().filter(key__in_array=sorted(keys))
    if not _is_whole_listing(base):
        numbers = numbers.filter(product_id__in=base.values("product_id"))
    ranges = numbers.order_by().values("key").annotate(low=Min("number"), high=Max("number")).order_by("key")
    try:
        sql, params = ranges.query.sql_with_params()
    except EmptyResultSet:  # rows.none(): an empty search
        return []
    return caching.cached("ranges", sql, params, lambda: list(ranges))


def _is_whole_listing(rows):
    """Whether ``rows`` are every listing row (``listings()``, not narrowed by anything)."""
    return rows.model is ProductListing and not rows.query.where and not rows.query.is_sliced


# -- order and page -------------------------------------------------------------------------------


def sort_documents(docs, sort_by):
    """
    Order rows by a sort key. What can be bought comes first in every order but
    relevancy (a shopper looking at the most popular, the newest or the cheapest wants
    what is in stock; the sort indexes begin with ``in_stock``, migration 0007).
    Relevancy (searches only) puts identifier matches first, then the best-ranked:
    titles before descriptions, whatever the stock. Every order ends on the product id
    so that pages never repeat or skip a product.
    """
    if sort_by == PRICE_LOW_TO_HIGH:
        return docs.order_by("-in_stock", F("price").asc(nulls_last=True), "-product_id")
    if sort_by == PRICE_HIGH_TO_LOW:
        return docs.order_by("-in_stock", F("price").desc(nulls_last=True), "-product_id")
    if sort_by == TITLE_A_TO_Z:
        return docs.order_by("-in_stock", Lower("title"), "product_id")
    if sort_by == POPULAR:
        return docs.order_by("-in_stock", "-popularity", "-date_created", "-product_id")
    if sort_by == RELEVANCY:
        # Constant annotations (no identifier hit, no rank) cannot be ordered by.
        relevance = [
            f"-{name}"
            for name in ("_id_hit", "_rank")
            if name in docs.query.annotations and not isinstance(docs.query.annotations[name], Value)
        ]
        if relevance:
            return docs.order_by(*relevance, "-popularity", "-date_created", "-product_id")
    return docs.order_by("-in_stock", "-date_created", "-product_id")


#: The columns and ``ORDER BY`` of each sort key over :func:`narrowed_page_ids`' subquery
#: (in stock first, as :func:`sort_documents` orders).
_ORDER_SQL = {
    PRICE_LOW_TO_HIGH: (("in_stock", "price"), "s.in_stock DESC, s.price ASC NULLS LAST, s.product_id DESC"),
    PRICE_HIGH_TO_LOW: (("in_stock", "price"), "s.in_stock DESC, s.price DESC NULLS LAST, s.product_id DESC"),
    TITLE_A_TO_Z: (("in_stock", "title"), "s.in_stock DESC, lower(s.title), s.product_id"),
    POPULAR: (
        ("in_stock", "popularity", "date_created"),
        "s.in_stock DESC, s.popularity DESC, s.date_created DESC, s.product_id DESC",
    ),
    NEWEST: (("in_stock", "date_created"), "s.in_stock DESC, s.date_created DESC, s.product_id DESC"),
}


def narrowed_page_ids(rows, sort_by):
    """
    The ids of ``rows`` — narrowed by a category, a search or filters — in the order of
    ``sort_by``, as a sliceable sequence for the paginator (one query a page).

    On PostgreSQL the rows are first found through their GIN-indexed lists, then sorted:
    an optimisation fence (``OFFSET 0``) keeps the planner from walking the price or date
    index of the whole listing and checking each row's categories, which is quick only
    when the category's products are spread evenly over that order. They are not: a
    category of cheap goods sorted by price, high to low, sits at the far end of the
    price index (2 s during an import, for a 2,000-product category). Sorting a
    category's rows costs a few milliseconds even for 20,000 of them.
    """
    if connection.vendor != "postgresql" or sort_by not in _ORDER_SQL:
        return sort_documents(rows, sort_by).values_list("product_id", flat=True)
    return _SortedIds(rows, *_ORDER_SQL[sort_by])


class _SortedIds:
    """
    ``rows``' ids sorted by ``order`` over ``columns``, behind an optimisation fence: a
    sliceable sequence for the paginator, ``[start:stop]`` is one query with LIMIT and OFFSET.
    """

    def __init__(self, rows, columns, order):
        self.rows, self.columns, self.order = rows, columns, order

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        try:
            sql, params = self.rows.order_by().values("product_id", *self.columns).query.sql_with_params()
        except EmptyResultSet:
            return []
        statement, params = f"SELECT s.product_id FROM ({sql} OFFSET 0) s ORDER BY {self.order}", list(params)
        if stop is not None:
            statement += " LIMIT %s"
            params.append(max(stop - start, 0))
        statement += " OFFSET %s"
        params.append(start)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return [row[0] for row in cursor.fetchall()]

    def __len__(self):
        return self.rows.count()

    def count(self):
        return len(self)


def products_for(product_ids):
    """The products of ``product_ids``, in that order, ready to render as cards."""
    by_id = {product.pk: product for product in for_listing(Product.objects.filter(pk__in=list(product_ids)))}
    return [by_id[pk] for pk in product_ids if pk in by_id]


def for_listing(products):
    """
    Everything a product card needs, fetched in a fixed number of queries whatever the
    number of products: the product class, whether the product has options (the card
    shows an add-to-basket button only without), and the partner strategy's data.
    """
    class_options = Option.objects.filter(productclass=OuterRef("product_class"))
    own_options = Option.objects.filter(product=OuterRef("pk"))
    products = products.select_related("product_class").annotate(
        has_product_class_options=Exists(class_options),
        has_product_options=Exists(own_options),
    )
    return prefetch_for_strategy(products, sales_only=True)


def newest_products(limit):
    """
    The ids of the ``limit`` most recently added listed products that are in stock (the
    home page's new arrivals: a shopper should be able to buy them), drawn as cards by
    :mod:`.cards`; when nothing is in stock, the newest whatever their stock.
    """
    newest = sort_documents(listings(), NEWEST).values_list("product_id", flat=True)
    return list(newest.filter(in_stock=True)[:limit]) or list(newest[:limit])


def newest_in_category(category, limit, exclude=()):
    """
    The ids of the ``limit`` newest listed products filed in ``category`` itself (not
    below it), but ``exclude``: a product page's related products. Read from the listing
    rows' GIN-indexed category lists and sorted behind the fence of
    :func:`narrowed_page_ids`: through Oscar's tables the planner walked the date index of
    every product to find a category's newest (33 ms on 100,000 products).
    """
    rows = listings().filter(categories__overlaps=[category.pk]).exclude(product_id__in=list(exclude))
    return list(narrowed_page_ids(rows, NEWEST)[:limit])


def in_stock_products(limit, exclude=()):
    """
    The ``limit`` listed products a shopper can buy right now (the sales stock record,
    or a variant's, has some available), the best-selling first, then the newest: an
    index walk over the listing rows; their ids (drawn as cards by :mod:`.cards`).
    """
    rows = listings().filter(in_stock=True).exclude(product_id__in=list(exclude))
    return list(sort_documents(rows, POPULAR).values_list("product_id", flat=True)[:limit])
