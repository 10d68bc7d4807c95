"""
Search, filters and counts as a shopper sees them. Runs on the suite's PostgreSQL and,
through ``test_search_sqlite.py``, on SQLite (the embedded demo): both must behave alike.
"""

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.apps.search import indexing, selectors
from shop.apps.search.models import FilterSetting, ProductDocument, ProductListing

from .conftest import listing_rows, set_option

pytestmark = pytest.mark.django_db


def titles(html):
    """Product titles of the cards of a listing page, in order."""
    import html as html_module

    return [html_module.unescape(title) for title in re.findall(r'data-product-title="([^"]*)"', html)]


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response
    return response.content.decode()


def found(client, q, **params):
    return titles(get(client, reverse("search:search"), q=q, **params))


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("дрели", "Дрель ударная Bosch"),
        ("ДРЕЛЬ", "Дрель ударная Bosch"),
        ("лампы", "Лампа светодиодная E27"),
        ("ламп", "Лампа настольная"),
        ("куртки", "Куртка зимняя"),
        ("куртку зимнюю", "Куртка зимняя"),
        ("шуруповерт", "Набор бит для шуруповёрта"),  # е for ё
        ("makita", "Дрель безударная Makita"),
    ],
)
def test_word_forms_find_the_product(client, catalogue, query, expected):
    assert expected in found(client, query)


def test_hidden_products_and_variants_are_not_found(client, catalogue):
    result = found(client, "секатор")
    assert "Секатор снятый" not in result
    assert not any(title.startswith("Куртка зимняя,") for title in found(client, "куртка"))


def test_every_word_must_match(client, catalogue):
    assert found(client, "дрель makita") == ["Дрель безударная Makita"]
    assert found(client, "дрель металла") == ["Дрель безударная Makita"]  # a description word


def test_title_matches_rank_above_description_matches(client, catalogue):
    result = found(client, "дрели")
    # «Набор бит» mentions a drill in its description only: it comes after every drill.
    assert result[-1] == "Набор бит для шуруповёрта"
    assert set(result[:3]) == {"Дрель ударная Bosch", "Дрель Bosch Professional", "Дрель безударная Makita"}


def test_article_barcode_and_1c_code(client, catalogue):
    assert found(client, "gsb-13re") == ["Дрель ударная Bosch"]
    assert found(client, "4601234567890") == ["Лампа светодиодная E27"]
    assert found(client, catalogue["makita"].code) == ["Дрель безударная Makita"]
    variant = catalogue["variants"][("S", "Синий")]
    assert found(client, variant.code) == ["Куртка зимняя"]  # a variant's code finds its parent


def test_near_misses_when_nothing_matches_exactly(client, catalogue):
    assert "Набор бит для шуруповёрта" in found(client, "шуруповрт")
    assert found(client, "холодильник") == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("дрэль", {"Дрель ударная Bosch", "Дрель Bosch Professional", "Дрель безударная Makita"}),  # a letter changed
        ("дрэли", {"Дрель ударная Bosch", "Дрель Bosch Professional", "Дрель безударная Makita"}),  # in another form
        ("куртак", {"Куртка зимняя"}),  # two letters swapped
        ("лмпа", {"Лампа светодиодная E27", "Лампа настольная"}),  # a letter missed
        ("дрэль makitta", {"Дрель безударная Makita"}),  # every word corrected
        ("светодиодня лампа", {"Лампа светодиодная E27"}),  # one word right, one wrong
    ],
)
def test_near_misses_of_short_words_and_of_several(client, catalogue, query, expected):
    assert set(found(client, query)) == expected


@pytest.mark.parametrize("query", ["дрзлм", "куртка холодильник", "кт", "дрель 123456789"])
def test_no_near_miss_beyond_the_edits_a_word_may_hold(client, catalogue, query):
    """Too far from any title word (or too short to correct): nothing, rather than anything."""
    assert found(client, query) == []


def test_a_near_miss_page_says_what_it_searched_for(client, catalogue):
    html = get(client, reverse("search:search"), q="дрэль")
    assert 'data-corrected-query="дрель"' in html
    assert "По запросу «дрэль» ничего не нашлось." in html
    assert "Показаны результаты по запросу «дрель»." in html
    assert re.search(r'<input[^>]*name="q"[^>]*value="дрэль"', html)  # the box keeps what was typed, to fix it there
    assert "data-corrected-query" not in get(client, reverse("search:search"), q="дрель")


def test_typos_allowed_grow_with_the_word():
    assert [selectors.typos_allowed("x" * n) for n in (2, 3, 5, 6, 12)] == [0, 1, 1, 2, 2]


def test_near_misses_read_the_title_words_the_refresh_keeps(client, catalogue):
    """A renamed product's new words are found with a typo at once; ``rebuild_all`` forgets the old ones."""
    from shop.apps.search.models import SearchWord

    assert {"дрель", "ударная", "bosch", "шуруповерта", "e27"} <= set(SearchWord.objects.values_list("word", flat=True))
    bosch = catalogue["bosch"]
    bosch.title = "Перфоратор ударный Bosch GBH-2287"
    bosch.save()
    indexing.flush_pending()
    assert found(client, "перфоратр") == ["Перфоратор ударный Bosch GBH-2287"]
    assert not SearchWord.objects.filter(word__in=["-2287", "2287"]).exists()  # a model number is no word
    assert SearchWord.objects.filter(word="ударная").exists()  # still there: Bosch was its only title
    indexing.rebuild_all()
    words = set(SearchWord.objects.values_list("word", flat=True))
    assert "ударная" not in words and "перфоратор" in words and "дрель" in words
    assert not any(word.isdigit() or len(word) < 3 for word in words)


def test_an_empty_search_leads_to_all_products_with_its_filters(client, catalogue):
    response = client.get(reverse("search:search"), {"q": "  "})
    assert response.status_code == 302 and response["Location"] == reverse("catalogue:index")
    response = client.get(reverse("search:search"), {"q": "", "in_stock": "1", "sort_by": "price-asc"})
    assert response["Location"] == reverse("catalogue:index") + "?sort_by=price-asc&in_stock=1"
    response = client.get(reverse("search:search"), {"q": "", "sort_by": "relevancy"})
    assert response["Location"] == reverse("catalogue:index")  # all products have no relevancy


def test_search_results_can_be_filtered(client, catalogue):
    brand = catalogue["brand"]
    assert found(client, "дрель", **{f"f{brand.pk}": "Makita"}) == ["Дрель безударная Makita"]


def test_filtered_search_results_keep_the_search_order(client, catalogue):
    """A filter narrows the results without reordering them (the search's order, read once)."""
    everything = found(client, "дрели")
    in_stock = found(client, "дрели", in_stock="1")
    assert set(in_stock) < set(everything)
    assert in_stock == [title for title in everything if title in in_stock]
    assert everything[-1] == "Набор бит для шуруповёрта"  # a description match after the titles


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"in_stock": "1"},
        {"price_max": "60000"},
        {"brand": "Bosch"},
        {"brand": "Bosch", "in_stock": "1", "warehouse": "almaty"},
    ],
)
def test_the_filter_panel_counts_the_page_as_the_totals_do(catalogue, params):
    """The panel's single pass gives the page count, in-stock count and price range of the separate aggregate."""
    from shop.apps.search.filters import ListingFilters

    filters = ListingFilters(
        price_max=Decimal(params["price_max"]) if "price_max" in params else None,
        in_stock="in_stock" in params,
    )
    if "brand" in params:
        filters.values = {catalogue["brand"].pk: [params["brand"]]}
    if "warehouse" in params:
        filters.warehouses = [catalogue[params["warehouse"]].pk]
    for base in (selectors.listings(), selectors.in_category(selectors.listings(), catalogue["tools"])):
        panel = selectors.facets(base, filters)
        assert panel["totals"] == selectors.listing_totals(base, filters)
        assert panel["totals"]["count"] == selectors.apply_filters(base, filters).count()
    assert selectors.facets(selectors.listings().none(), filters)["totals"]["count"] == 0


def test_suggestions_as_you_type(client, catalogue):
    response = client.get(reverse("search:suggest"), {"q": "дре"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    products = [item["title"] for item in data["products"]]
    assert {"Дрель ударная Bosch", "Дрель безударная Makita", "Дрель Bosch Professional"} <= set(products)
    assert all(item["url"].startswith("/catalogue/") for item in data["products"])
    assert [category["name"] for category in data["categories"]] == ["Дрели"]
    assert data["all_url"] == "/search/?q=%D0%B4%D1%80%D0%B5"
    bosch = next(item for item in data["products"] if item["title"] == "Дрель ударная Bosch")
    assert "32" in bosch["price"] and "990" in bosch["price"]

    assert json.loads(client.get(reverse("search:suggest"), {"q": "gsb-13re"}).content)["products"][0]["title"] == (
        "Дрель ударная Bosch"
    )
    assert json.loads(client.get(reverse("search:suggest"), {"q": "д"}).content)["products"] == []


def test_suggestions_offer_near_misses_when_nothing_starts_so(client, catalogue):
    def offered(q):
        return {item["title"] for item in json.loads(client.get(reverse("search:suggest"), {"q": q}).content)["products"]}

    assert offered("дрэль") == {"Дрель ударная Bosch", "Дрель безударная Makita", "Дрель Bosch Professional"}
    assert offered("куртак") == {"Куртка зимняя"}
    assert offered("холодильник") == set()


# -- filters and counts ------------------------------------------------------------------------


def facet_counts(html, param):
    """{value: count} of the checkboxes named ``param`` in the filter panel."""
    pattern = re.compile(
        r'<input type="checkbox" name="%s" value="([^"]+)"[^>]*/>\s*([^<]+?)\s*<span class="facet-count">(\d+)</span>'
        % re.escape(param)
    )
    return {label.strip(): int(count) for _, label, count in pattern.findall(html)}


def test_category_filters_with_counts(client, catalogue):
    brand = catalogue["brand"]
    html = get(client, catalogue["tools"].get_absolute_url())
    assert facet_counts(html, f"f{brand.pk}") == {"Bosch": 2, "Makita": 1}
    assert facet_counts(html, "wh") == {"Основной склад": 3, "Склад Алматы": 1, "Склад Астана": 1}
    assert 'name="price_min"' in html and 'name="price_max"' in html
    assert f'name="n{catalogue["power"].pk}_min"' not in html  # numbers are not filters by default

    # Values of the filter in use stay alternatives; other filters' counts narrow.
    html = get(client, catalogue["tools"].get_absolute_url(), **{f"f{brand.pk}": "Bosch"})
    assert titles(html) and set(titles(html)) == {"Дрель ударная Bosch", "Дрель Bosch Professional"}
    assert facet_counts(html, f"f{brand.pk}") == {"Bosch": 2, "Makita": 1}
    assert facet_counts(html, "wh") == {"Основной склад": 1, "Склад Алматы": 1}


def test_property_and_price_range_narrow_the_listing(client, catalogue):
    brand = catalogue["brand"]
    url = catalogue["drills"].get_absolute_url()
    assert len(titles(get(client, url))) == 3
    html = get(client, url, **{f"f{brand.pk}": "Bosch", "price_max": "40000"})
    assert titles(html) == ["Дрель ударная Bosch"]
    assert get(client, url, price_min="60000", price_max="80000").count('class="product_pod"') == 1
    assert "1 товар" in html or "1 product" in html


def test_in_stock_and_warehouse_filters(client, catalogue):
    url = catalogue["drills"].get_absolute_url()
    assert set(titles(get(client, url, in_stock="1"))) == {"Дрель ударная Bosch", "Дрель безударная Makita"}
    assert titles(get(client, url, wh=str(catalogue["astana"].pk))) == ["Дрель безударная Makita"]
    both = get(client, url, wh=[str(catalogue["astana"].pk), str(catalogue["almaty"].pk)])
    assert set(titles(both)) == {"Дрель ударная Bosch", "Дрель безударная Makita"}


def test_variant_characteristics_are_filters_in_natural_order(client, catalogue):
    html = get(client, catalogue["clothes"].get_absolute_url())
    size = FilterSetting.objects.get(attribute__code="c_razmer").attribute_id
    colour = FilterSetting.objects.get(attribute__code="c_tsvet").attribute_id
    assert list(facet_counts(html, f"f{size}")) == ["S", "M", "L", "XL"]
    assert facet_counts(html, f"f{colour}") == {"Синий": 1, "Чёрный": 1}
    assert titles(get(client, catalogue["clothes"].get_absolute_url(), **{f"f{size}": "XL"})) == ["Куртка зимняя"]
    # The parent's price is its cheapest variant's; it is in stock through its variants.
    listing = ProductListing.objects.get(product=catalogue["jacket"])
    assert listing.price == Decimal("23990.00") and listing.in_stock


def test_number_property_as_a_range_once_a_manager_makes_it_a_filter(client, catalogue):
    power = catalogue["power"]
    setting = FilterSetting.objects.get(attribute=power)
    assert not setting.is_filterable
    setting.is_filterable = True
    setting.save()
    url = catalogue["drills"].get_absolute_url()
    html = get(client, url)
    assert f'name="n{power.pk}_min"' in html
    assert set(titles(get(client, url, **{f"n{power.pk}_min": "550"}))) == {
        "Дрель ударная Bosch",
        "Дрель Bosch Professional",
    }
    assert titles(get(client, url, **{f"n{power.pk}_min": "700", f"n{power.pk}_max": "900"})) == [
        "Дрель Bosch Professional"
    ]


def test_a_manager_can_turn_a_filter_off(client, catalogue):
    brand = catalogue["brand"]
    FilterSetting.objects.filter(attribute=brand).update(is_filterable=False)
    assert f'name="f{brand.pk}"' not in get(client, catalogue["drills"].get_absolute_url())


def test_filtered_pages_are_shareable_canonical_and_not_indexed(client, catalogue):
    brand = catalogue["brand"]
    url = catalogue["drills"].get_absolute_url()
    plain = get(client, url)
    assert f'<link rel="canonical" href="http://testserver{url}" />' in plain
    assert 'name="robots"' not in plain

    filtered = get(client, url, **{f"f{brand.pk}": "Bosch", "sort_by": "price-asc"})
    assert f'<link rel="canonical" href="http://testserver{url}" />' in filtered
    assert '<meta name="robots" content="noindex, follow" />' in filtered
    # The same URL shows the same products to whoever opens it.
    assert titles(client.get(f"{url}?f{brand.pk}=Bosch&sort_by=price-asc").content.decode()) == [
        "Дрель ударная Bosch",
        "Дрель Bosch Professional",
    ]


def test_sorting_by_price_novelty_and_popularity(client, catalogue):
    url = catalogue["drills"].get_absolute_url()
    assert titles(get(client, url, sort_by="price-asc")) == [
        "Дрель ударная Bosch",
        "Дрель безударная Makita",
        "Дрель Bosch Professional",  # out of stock: after what can be bought
    ]
    assert titles(get(client, url, sort_by="price-desc"))[0] == "Дрель безударная Makita"
    assert titles(get(client, url, sort_by="newest"))[0] == "Дрель безударная Makita"
    html = get(client, url)
    assert 'value="rating"' not in html
    assert 'value="popular"' in html and 'value="newest"' in html and 'value="price-asc"' in html


def test_popularity_follows_purchases(client, catalogue):
    from oscar.core.loading import get_model

    ProductRecord = get_model("analytics", "ProductRecord")
    ProductRecord.objects.create(product=catalogue["bosch"], num_purchases=12)
    indexing.refresh_products([catalogue["bosch"].pk])
    assert titles(get(client, catalogue["drills"].get_absolute_url(), sort_by="popular"))[0] == "Дрель ударная Bosch"


def test_page_numbers_keep_the_filters(client, catalogue, settings):
    from tests.storefront.factories import ProductFactory

    for n in range(30):
        ProductFactory(title=f"Лампа {n:02d}", categories=[catalogue["light"]], stock=(Decimal(100 + n), 1))
    url = catalogue["light"].get_absolute_url()
    html = get(client, url, in_stock="1", sort_by="price-asc")
    assert html.count('class="product_pod"') == 24
    assert 'href="?in_stock=1&amp;sort_by=price-asc&amp;page=2"' in html or (
        'href="?sort_by=price-asc&amp;in_stock=1&amp;page=2"' in html
    )
    second = get(client, url, in_stock="1", sort_by="price-asc", page="2")
    assert second.count('class="product_pod"') == 8


def test_changes_of_one_product_show_at_once(client, catalogue):
    from tests.storefront.factories import set_stock

    url = catalogue["drills"].get_absolute_url()
    set_stock(catalogue["makita"], Decimal("30000"), 2)
    assert titles(get(client, url, sort_by="price-asc"))[0] == "Дрель безударная Makita"
    set_option(catalogue["makita"], catalogue["brand"], "Bosch")
    assert len(titles(get(client, url, **{f"f{catalogue['brand'].pk}": "Bosch"}))) == 3
    catalogue["makita"].is_public = False
    catalogue["makita"].save()
    assert "Дрель безударная Makita" not in titles(get(client, url))
    assert not ProductDocument.objects.filter(product=catalogue["makita"]).exists()
    assert not ProductListing.objects.filter(product=catalogue["makita"]).exists()


def test_rebuild_gives_the_same_rows(catalogue):
    from shop.apps.search.models import ProductFacet

    indexing.flush_pending()
    before = listing_rows()
    assert before[1] and any(listing[-2] for listing in before[1])  # rows with facets to compare
    assert any(listing[-1] for listing in before[1])  # and with identifiers
    ProductDocument.objects.all().delete()
    ProductListing.objects.all().delete()
    ProductFacet.objects.all().delete()
    indexing.rebuild_all()
    assert listing_rows() == before


def test_queries_do_not_grow_with_the_page(client, catalogue):
    from tests.storefront.factories import ProductFactory

    brand = catalogue["brand"]
    url = catalogue["tools"].get_absolute_url()
    params = {f"f{brand.pk}": "Bosch", "price_max": "100000", "sort_by": "price-asc"}

    def queries():
        client.get(url, params)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        return len(captured), response.content.decode().count('class="product_pod"')

    few, shown = queries()
    assert shown == 2
    for n in range(22):
        product = ProductFactory(title=f"Дрель {n}", categories=[catalogue["drills"]])
        set_option(product, brand, "Bosch")
    many, shown = queries()
    assert shown == 24
    assert many == few, f"{few} queries for 2 products, {many} for 24"


def test_selectors_search_ranks_identifier_first(catalogue):
    docs = selectors.sort_documents(selectors.search(selectors.listings(), "GSB-13RE"), selectors.RELEVANCY)
    assert list(docs.values_list("title", flat=True)) == ["Дрель ударная Bosch"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_save_never_holds_up_later_refreshes():
    """Ids a rolled-back transaction left pending must not stop the next commit's refresh."""
    from django.db import transaction

    from tests.storefront.factories import ProductFactory

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        ProductFactory(title="Отменённая дрель")
        raise Rollback

    with transaction.atomic():
        kept = ProductFactory(title="Дрель ударная")

    assert ProductDocument.objects.filter(product=kept).exists()


def test_relevancy_pages_neither_repeat_nor_skip(client, catalogue):
    from tests.storefront.factories import ProductFactory

    for n in range(30):
        ProductFactory(title=f"Дрель аккумуляторная {n}", categories=[catalogue["drills"]])
    indexing.flush_pending()
    first = found(client, "дрели")
    second = found(client, "дрели", page=2)
    assert len(first) == 24 and len(second) == 34 - 24
    assert not set(first) & set(second)
    assert "Набор бит для шуруповёрта" == second[-1]  # a description match after every title match


def test_every_sort_pages_a_category_without_repeats_or_gaps(client, catalogue):
    """Category pages are sorted over the category's rows (PostgreSQL: behind an OFFSET 0 fence)."""
    from tests.storefront.factories import ProductFactory

    for n in range(30):
        ProductFactory(title=f"Дрель {n:02d}", categories=[catalogue["drills"]], stock=(Decimal(1000 + n * 10), 1))
    indexing.flush_pending()
    url = catalogue["tools"].get_absolute_url()
    for sort in ("price-asc", "price-desc", "newest", "popular", "title-asc"):
        pages = titles(get(client, url, sort_by=sort)) + titles(get(client, url, sort_by=sort, page=2))
        assert len(pages) == len(set(pages)) == 34, sort
    cheapest = titles(get(client, url, sort_by="price-asc"))[:2]
    assert cheapest == ["Дрель 00", "Дрель 01"]
    by_name = titles(get(client, url, sort_by="title-asc"))
    assert by_name == sorted(by_name, key=str.lower)


def test_related_products_are_the_newest_listed_of_the_category_itself(catalogue):
    """A product page's related products: its own category's, newest first, not itself, nothing hidden."""
    drills, bosch = catalogue["drills"], catalogue["bosch"]
    assert selectors.newest_in_category(drills, 8, exclude=[bosch.pk]) == [
        catalogue["makita"].pk,
        catalogue["bosch_pro"].pk,
    ]
    assert selectors.newest_in_category(drills, 1) == [catalogue["makita"].pk]
    # «Инструменты» files the bits and the hidden secateurs; the drills are filed below it.
    tools = selectors.newest_in_category(catalogue["tools"], 8)
    assert [ProductListing.objects.get(product_id=pk).title for pk in tools] == ["Набор бит для шуруповёрта"]


# -- text and yes/no properties as filters -------------------------------------------------------


@pytest.fixture
def background_now(monkeypatch):
    """Background tasks run at once, in the test's transaction (what a worker does after the commit)."""
    ran = []

    def enqueue(task, *args, **kwargs):
        ran.append(task.name)
        task.apply(args=args, kwargs=kwargs)

    monkeypatch.setattr("shop.background.enqueue", enqueue)
    return ran


@pytest.fixture
def materials(catalogue):
    """A 1C text property (Строка) «Материал» and a yes/no one (Булево) «Аккумуляторная» on the drills."""
    from oscar.core.loading import get_model

    from tests.storefront.factories import set_text_attribute

    ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
    for key, material in (("bosch", "Пластик"), ("bosch_pro", "Пластик"), ("makita", "Алюминий")):
        set_text_attribute(catalogue[key], "p_material", "Материал", material)
    product_class = catalogue["bosch"].get_product_class()
    cordless = product_class.attributes.create(code="p_cordless", name="Аккумуляторная", type="boolean")
    for key, flag in (("bosch", False), ("bosch_pro", True), ("makita", True)):
        ProductAttributeValue.objects.create(product=catalogue[key], attribute=cordless, value_boolean=flag)
    indexing.flush_pending()
    material = FilterSetting.objects.get(attribute__code="p_material")
    return {"material": material, "cordless": FilterSetting.objects.get(attribute=cordless)}


def test_every_property_has_a_filter_setting_text_ones_off(client, catalogue, materials):
    material, cordless = materials["material"], materials["cordless"]
    assert not material.is_filterable and not cordless.is_filterable
    # Off, the rows carry none of their values: a refresh costs what it did before.
    assert not ProductListing.objects.filter(facets__overlaps=[f"v{material.attribute_id}:Пластик"]).exists()
    assert not any(
        facet.startswith((f"v{material.attribute_id}:", f"v{cordless.attribute_id}:"))
        for facets in ProductListing.objects.values_list("facets", flat=True)
        for facet in facets
    )
    html = get(client, catalogue["drills"].get_absolute_url())
    assert f'name="f{material.attribute_id}"' not in html


def test_a_text_property_switched_on_becomes_a_checkbox_filter(client, catalogue, materials, background_now):
    material = materials["material"]
    param = f"f{material.attribute_id}"
    material.is_filterable = True
    material.save()
    assert background_now == ["shop.apps.search.tasks.refresh_filter_attribute"]
    url = catalogue["drills"].get_absolute_url()
    html = get(client, url)
    assert facet_counts(html, param) == {"Алюминий": 1, "Пластик": 2}
    assert set(titles(get(client, url, **{param: "Пластик"}))) == {"Дрель ударная Bosch", "Дрель Bosch Professional"}
    refreshed = listing_rows()
    indexing.rebuild_all()
    assert listing_rows() == refreshed  # the rebuild carries them too

    material.position = 5  # not a switch: nothing to refresh
    material.save()
    assert len(background_now) == 1
    material.is_filterable = False
    material.save()
    assert len(background_now) == 2
    # The filter's field, not the bare name: "f7" may be part of a signed thumbnail address.
    assert f'name="{param}"' not in get(client, url)
    assert not ProductListing.objects.filter(facets__overlaps=[f"v{material.attribute_id}:Пластик"]).exists()


def test_a_yes_no_property_switched_on_filters_by_yes_and_no(client, catalogue, materials, background_now):
    cordless = materials["cordless"]
    cordless.is_filterable = True
    cordless.save()
    param = f"f{cordless.attribute_id}"
    url = catalogue["drills"].get_absolute_url()
    html = get(client, url)
    counts = facet_counts(html, param)
    assert counts in ({"Да": 2, "Нет": 1}, {"Yes": 2, "No": 1}) and list(counts)[0] in ("Да", "Yes")
    assert set(titles(get(client, url, **{param: "1"}))) == {"Дрель Bosch Professional", "Дрель безударная Makita"}


def test_a_manager_switches_a_text_property_on_in_the_admin(admin_client, catalogue, materials, background_now):
    material = materials["material"]
    response = admin_client.post(
        reverse("admin:search_filtersetting_change", args=[material.pk]),
        {"is_filterable": "on", "position": "100"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Материал" in "".join(str(message) for message in response.context["messages"])
    assert background_now == ["shop.apps.search.tasks.refresh_filter_attribute"]
    assert ProductListing.objects.filter(facets__overlaps=[f"v{material.attribute_id}:Алюминий"]).count() == 1


# -- all products -----------------------------------------------------------------------------


def test_all_products_have_the_filter_panel_of_a_category(client, catalogue):
    brand, power = catalogue["brand"], catalogue["power"]
    FilterSetting.objects.filter(attribute=power).update(is_filterable=True)
    url = reverse("catalogue:index")
    html = get(client, url)
    assert facet_counts(html, f"f{brand.pk}") == {"Bosch": 2, "Makita": 1}
    assert facet_counts(html, "wh") == {"Основной склад": 6, "Склад Алматы": 1, "Склад Астана": 1}
    assert 'name="price_min"' in html and 'name="in_stock"' in html
    assert re.search(r'placeholder="(от|from) 510"', html)  # the power range over every product
    size = FilterSetting.objects.get(attribute__code="c_razmer").attribute_id
    assert list(facet_counts(html, f"f{size}")) == ["S", "M", "L", "XL"]

    filtered = get(client, url, **{f"f{brand.pk}": "Bosch", "sort_by": "newest"})
    assert titles(filtered) == ["Дрель ударная Bosch", "Дрель Bosch Professional"]  # in stock first, then the newest
    assert '<meta name="robots" content="noindex, follow" />' in filtered
    assert f'<link rel="canonical" href="http://testserver{url}" />' in filtered
    assert set(titles(get(client, url, in_stock="1", **{f"n{power.pk}_max": "600"}))) == {
        "Дрель ударная Bosch",
        "Дрель безударная Makita",
    }


def test_all_products_cost_the_same_queries_filtered_or_not_whatever_the_page(client, catalogue):
    from tests.storefront.factories import ProductFactory

    url = reverse("catalogue:index")
    brand = catalogue["brand"]

    def queries(params):
        client.get(url, params)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        return len(captured), response.content.decode().count('class="product_pod"')

    plain, shown = queries({})
    filtered, _ = queries({f"f{brand.pk}": "Bosch"})
    assert shown == 7
    for n in range(20):
        set_option(ProductFactory(title=f"Дрель {n}", categories=[catalogue["drills"]]), brand, "Bosch")
    assert queries({}) == (plain, 24)
    assert queries({f"f{brand.pk}": "Bosch"}) == (filtered, 22)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"in_stock": "1"},
        {"brand": "Bosch"},
        {"brand": "Bosch", "in_stock": "1"},
        {"brand": "Makita", "warehouse": "astana"},
        {"brand": "Bosch", "in_stock": "1", "warehouse": "almaty"},
        {"price_max": "60000", "brand": "Bosch"},
        {"price_max": "60000", "in_stock": "1"},
        {"size": "M"},
        {"size": "M", "colour": "Чёрный", "in_stock": "1"},
    ],
)
def test_filter_counts_are_what_each_filter_would_show(catalogue, params):
    """
    Each value's count is the number of rows the page would show with the value added
    to the other filters, however the panel reads it (a pass shared with the unfiltered
    page, its in-stock counts, or a pass over the rows the filters let through).
    """
    from collections import Counter

    from shop.apps.search.filters import ListingFilters

    size = FilterSetting.objects.get(attribute__code="c_razmer").attribute_id
    colour = FilterSetting.objects.get(attribute__code="c_tsvet").attribute_id
    filters = ListingFilters(
        price_max=Decimal(params["price_max"]) if "price_max" in params else None, in_stock="in_stock" in params
    )
    for name, key in (("brand", catalogue["brand"].pk), ("size", size), ("colour", colour)):
        if name in params:
            filters.values[key] = [params[name]]
    if "warehouse" in params:
        filters.warehouses = [catalogue[params["warehouse"]].pk]
    for base in (selectors.listings(), selectors.in_category(selectors.listings(), catalogue["tools"])):
        counts, totals = selectors._facet_counts(base, filters)
        for skip in ["all", *filters.values, *(["wh"] if filters.warehouses else [])]:
            rows = selectors.apply_filters(base, filters, skip=None if skip == "all" else skip)
            expected = Counter(facet for facets in rows.values_list("facets", flat=True) for facet in facets)
            assert counts[skip] == dict(expected), skip
        passing = selectors.apply_filters(base, filters)
        assert totals["count"] == passing.count()
        assert totals["in_stock"] == passing.filter(in_stock=True).count()
        assert (totals["price_low"], totals["price_high"]) == tuple(
            base.aggregate(low=Min("price"), high=Max("price")).values()
        )


# -- out of stock last -------------------------------------------------------------------------


@pytest.fixture
def sold_out(catalogue):
    """
    Two drills out of stock that every order would otherwise put first: the newest, the
    most bought, one the cheapest and one the dearest, first by name.
    """
    from oscar.core.loading import get_model

    from tests.storefront.factories import ProductFactory

    ProductRecord = get_model("analytics", "ProductRecord")
    cheap = ProductFactory(title="Аа дрель дешёвая", categories=[catalogue["drills"]], stock=(Decimal("10"), 0))
    dear = ProductFactory(title="Аб дрель дорогая", categories=[catalogue["drills"]], stock=(Decimal("999999"), 0))
    for product in (cheap, dear):
        ProductRecord.objects.create(product=product, num_purchases=100)
    indexing.refresh_products([cheap.pk, dear.pk])
    return {"Аа дрель дешёвая", "Аб дрель дорогая", "Дрель Bosch Professional"}


@pytest.mark.parametrize("sort", [None, "popular", "newest", "price-asc", "price-desc", "title-asc"])
def test_what_is_out_of_stock_comes_after_what_can_be_bought_in_every_sort(client, catalogue, sold_out, sort):
    params = {"sort_by": sort} if sort else {}
    for url in (catalogue["drills"].get_absolute_url(), reverse("catalogue:index")):
        shown = titles(get(client, url, **params))
        assert set(shown[-3:]) == sold_out and not sold_out & set(shown[:-3]), (url, shown)
    if sort:  # search results sorted so; relevancy ranks by the words (titles before descriptions)
        shown = found(client, "дрель", **params)
        assert set(shown[-3:]) == sold_out and not sold_out & set(shown[:-3]), shown


def test_in_stock_first_pages_neither_repeat_nor_skip(client, catalogue, sold_out):
    from tests.storefront.factories import ProductFactory

    for n in range(30):
        ProductFactory(title=f"Лампа {n:02d}", categories=[catalogue["light"]], stock=(Decimal(100 + n), n % 3))
    indexing.flush_pending()
    url = reverse("catalogue:index")
    for sort in ("popular", "newest", "price-asc", "price-desc", "title-asc"):
        pages = titles(get(client, url, sort_by=sort)) + titles(get(client, url, sort_by=sort, page=2))
        assert len(pages) == len(set(pages)) == 39, sort  # 7 + 2 sold out + 30 lamps
        stock = dict(ProductListing.objects.values_list("title", "in_stock"))
        flags = [stock[title] for title in pages]
        assert flags == sorted(flags, reverse=True), sort  # every in-stock product before any other
        only_in_stock = titles(get(client, url, sort_by=sort, in_stock="1", page=2))
        assert only_in_stock and all(stock[title] for title in only_in_stock), sort


def test_the_home_page_shows_new_arrivals_that_are_in_stock(client, catalogue, sold_out):
    html = get(client, "/")
    new_arrivals = titles(html.split('id="new_arrivals"')[1].split("</section>")[0])
    assert new_arrivals and not sold_out & set(new_arrivals)
    assert not sold_out & set(titles(html))


# -- pickup points in the filter -------------------------------------------------------------


def test_the_filter_offers_pickup_points_instead_of_warehouses(client, catalogue):
    almaty = catalogue["almaty"]
    url = catalogue["tools"].get_absolute_url()
    assert "Забрать сегодня" not in get(client, url)  # none configured: every warehouse, as before

    almaty.is_pickup_point = True
    almaty.pickup_address = "ул. Абая, 10"
    almaty.save()
    html = get(client, url)
    assert re.search(r"<legend>\s*(Забрать сегодня|Pick up today)\s*</legend>", html)
    assert facet_counts(html, "wh") == {"Склад Алматы": 1}  # the one point, not the internal warehouses
    assert titles(get(client, url, wh=str(almaty.pk))) == ["Дрель ударная Bosch"]

    # A warehouse chosen in an older link stays offered, to be unticked.
    old_link = get(client, url, wh=str(catalogue["astana"].pk))
    assert facet_counts(old_link, "wh") == {"Склад Алматы": 1, "Склад Астана": 1}


# -- search: word forms, empty and fruitless searches, suggestions --------------------------------


@pytest.fixture
def plural_forms(catalogue):
    from tests.storefront.factories import ProductFactory

    ProductFactory(title="Кроссовки беговые Demix", categories=[catalogue["clothes"]])
    ProductFactory(title="Футболка хлопковая", categories=[catalogue["clothes"]])
    ProductFactory(title="Сковорода Tefal 28 см", categories=[catalogue["tools"]])
    ProductFactory(title="Полотенце махровое", categories=[catalogue["clothes"]])
    indexing.flush_pending()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("кроссовок", "Кроссовки беговые Demix"),  # genitive plural: a stem of its own
        ("футболок", "Футболка хлопковая"),
        ("сковородки", "Сковорода Tefal 28 см"),  # another suffix
        ("полотенец", "Полотенце махровое"),
        ("кроссовок demix", "Кроссовки беговые Demix"),
    ],
)
def test_a_form_of_a_title_word_is_a_search_not_a_typo(client, catalogue, plural_forms, query, expected):
    html = get(client, reverse("search:search"), q=query)
    assert titles(html) == [expected]
    assert "data-corrected-query" not in html and "ничего не нашлось" not in html


def test_a_typo_is_still_said_to_be_corrected(client, catalogue, plural_forms):
    for typo, meant in (("куртак", "куртка"), ("кросовки", "кроссовки"), ("дрэль", "дрель")):
        html = get(client, reverse("search:search"), q=typo)
        assert f'data-corrected-query="{meant}"' in html, typo


def test_word_forms_against_typos():
    assert selectors.is_word_form("кроссовок", "кроссовки")
    assert selectors.is_word_form("ручек", "ручка")
    assert selectors.is_word_form("сковородки", "сковорода")
    assert not selectors.is_word_form("куртак", "куртка")
    assert not selectors.is_word_form("дрэли", "дрель")
    assert not selectors.is_word_form("кросовки", "кроссовки")
    assert not selectors.is_word_form("кот", "коты")  # too short a stem to tell


def test_a_search_that_finds_nothing_offers_the_catalogue_and_the_query_to_change(client, catalogue):
    html = get(client, reverse("search:search"), q="холодильник")
    assert titles(html) == []
    assert re.search(r"(По запросу «холодильник» ничего не нашлось|Nothing matched .холодильник.)", html)
    assert re.search(r'<input[^>]*id="search_again"[^>]*value="холодильник"', html)
    for category in ("tools", "light", "clothes"):
        assert f'class="subcategory-chip" href="{catalogue[category].get_absolute_url()}"' in html
    assert f'href="{reverse("catalogue:index")}"' in html
    assert "0 товаров" not in html and 'name="sort_by"' not in html  # no count and sort of nothing

    filtered = get(client, reverse("search:search"), q="дрель", price_min="999999")
    assert "search_again" not in filtered  # nothing passes the filters: the filters' own message
    assert re.search(r"(Сбросить фильтры|Reset filters)", filtered)


def test_suggested_categories_say_which_is_which(client, catalogue):
    from tests.storefront.factories import CategoryFactory

    men, women = CategoryFactory(name="Мужская одежда"), CategoryFactory(name="Женская одежда")
    for parent in (men, women):
        CategoryFactory(name="Футболки", parent=parent)
    data = json.loads(client.get(reverse("search:suggest"), {"q": "футб"}).content)
    assert sorted((item["name"], item["parent"]) for item in data["categories"]) == [
        ("Футболки", "Женская одежда"),
        ("Футболки", "Мужская одежда"),
    ]
    data = json.loads(client.get(reverse("search:suggest"), {"q": "дре"}).content)
    assert data["categories"] == [
        {"name": "Дрели", "parent": "Инструменты", "url": catalogue["drills"].get_absolute_url()}
    ]


def test_an_unfilled_number_is_no_value_of_its_range_filter(client, catalogue):
    """1C unloads a number nobody entered as 0: the range starts at the real minimum and «up to» skips it."""
    from .conftest import set_number

    power = catalogue["power"]
    FilterSetting.objects.filter(attribute=power).update(is_filterable=True)
    set_number(catalogue["makita"], power, 0.0)
    indexing.flush_pending()
    url = catalogue["drills"].get_absolute_url()
    html = get(client, url)
    assert re.search(r'name="n%d_min"[^>]*placeholder="(от|from) 600"' % power.pk, html)
    assert re.search(r'name="n%d_max"[^>]*placeholder="(до|to) 850"' % power.pk, html)
    assert titles(get(client, url, **{f"n{power.pk}_max": "700"})) == ["Дрель ударная Bosch"]
    assert re.search(r'placeholder="(от|from) 600"', get(client, reverse("catalogue:index")))


def test_a_documents_text_lists_the_values_sorted_whatever_order_they_were_read_in(catalogue):
    """
    The search document lists a product's property values sorted — PostgreSQL's
    ``string_agg(DISTINCT …)``, and the rows computed in Python on SQLite the same way —
    not in the order its value rows were read: another plan, or a row rewritten, gives the
    same document, and a refresh the same rows as a rebuild.
    """
    from tests.storefront.factories import set_text_attribute

    makita = catalogue["makita"]
    set_text_attribute(makita, "p_zone", "Зона", "Ярославль")  # written before the value that sorts first
    set_text_attribute(makita, "p_colour", "Цвет", "Бирюзовый")
    indexing.refresh_products([makita.pk])
    text = ProductDocument.objects.get(product=makita).text
    assert text.index("Бирюзовый") < text.index("Ярославль"), text
    refreshed = listing_rows()
    indexing.rebuild_all()
    assert listing_rows() == refreshed
