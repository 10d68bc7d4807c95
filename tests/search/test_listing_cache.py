"""
The filter counts and totals of listing pages are cached until the listing rows change
(``shop.apps.search.caching``): a repeated page does not count again, and a committed
change — a product added to the category, stock sold out — shows on the next page.
"""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.apps.search import caching

from tests.storefront.factories import ProductFactory, set_stock

from .conftest import set_option
from .test_search_behaviour import facet_counts

pytestmark = pytest.mark.django_db(transaction=True)


def page(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode(), len(captured)


def brand_counts(html, attribute_id):
    return {value: count for value, count in facet_counts(html, f"f{attribute_id}").items()}


def in_stock_count(html):
    match = re.search(r'name="in_stock"[^>]*/>\s*[^<]*<span class="facet-count">(\d+)</span>', html)
    return int(match.group(1)) if match else None


def test_counts_are_cached_until_a_change_commits(client, catalogue):
    url = catalogue["drills"].get_absolute_url()
    brand = catalogue["brand"]
    first, first_queries = page(client, url)
    assert brand_counts(first, brand.pk) == {"Bosch": 2, "Makita": 1}
    again, again_queries = page(client, url)
    assert brand_counts(again, brand.pk) == {"Bosch": 2, "Makita": 1}
    assert again_queries <= first_queries - 2, (first_queries, again_queries)  # the totals and the counts

    # Committed outside any request (as an exchange does): the next page shows it.
    new = ProductFactory(title="Дрель аккумуляторная Makita", categories=[catalogue["drills"]], stock=(Decimal("45990"), 1))
    set_option(new, brand, "Makita")
    changed, _ = page(client, url)
    assert brand_counts(changed, brand.pk) == {"Bosch": 2, "Makita": 2}

    in_stock_before = in_stock_count(changed)
    set_stock(new, Decimal("45990"), 0)
    sold_out, _ = page(client, url)
    assert in_stock_count(sold_out) == in_stock_before - 1


def test_a_cache_that_is_down_only_costs_the_counting(client, catalogue, monkeypatch):
    url = catalogue["drills"].get_absolute_url()

    class DownCache:
        def __getattr__(self, name):
            def refuse(*args, **kwargs):
                raise ConnectionError("the cache is down")

            return refuse

    monkeypatch.setattr(caching, "cache", DownCache())
    html, _ = page(client, url)
    assert brand_counts(html, catalogue["brand"].pk) == {"Bosch": 2, "Makita": 1}


def test_cached_cards_carry_each_shoppers_csrf_token(catalogue):
    from django.test import Client

    from shop.apps.search.views import ProductListView

    url = catalogue["light"].get_absolute_url()
    first = Client(enforce_csrf_checks=True)
    first.get(url)
    shopper = Client(enforce_csrf_checks=True)
    html = shopper.get(url).content.decode()  # the cards come from the cache now
    assert ProductListView.CSRF_PLACEHOLDER not in html
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    assert tokens
    lamp = catalogue["lamp"]
    response = shopper.post(
        f"/basket/add/{lamp.pk}/", {"quantity": 1, "csrfmiddlewaretoken": tokens.pop()}, HTTP_REFERER=url
    )
    assert response.status_code == 302  # accepted: a 403 would be a foreign token


def test_a_cached_search_finds_what_an_exchange_added(client, catalogue):
    from .test_search_behaviour import titles

    html, _ = page(client, "/search/", q="дрели")
    assert "Дрель аккумуляторная Makita" not in titles(html)
    page(client, "/search/", q="дрели")  # what «дрели» matches is cached now
    ProductFactory(title="Дрель аккумуляторная Makita", categories=[catalogue["drills"]], stock=(Decimal("45990"), 1))
    html, _ = page(client, "/search/", q="дрели")
    assert "Дрель аккумуляторная Makita" in titles(html)


def test_a_card_drawn_on_one_page_is_not_drawn_again_on_another(client, catalogue, monkeypatch):
    """Cards are cached one by one too: a search showing the category's drills reads none of them again."""
    from shop.apps.search import selectors, views

    from .test_search_behaviour import titles

    drawn = []
    products_for = selectors.products_for

    def counting(ids):
        drawn.append(list(ids))
        return products_for(ids)

    monkeypatch.setattr(views.selectors, "products_for", counting)
    category, _ = page(client, catalogue["drills"].get_absolute_url())
    drills = {catalogue["bosch"].pk, catalogue["bosch_pro"].pk, catalogue["makita"].pk}
    assert set(drawn[0]) == drills
    search, _ = page(client, "/search/", q="дрели")
    assert set(titles(search)) >= {"Дрель ударная Bosch", "Набор бит для шуруповёрта"}
    # The search's page reads as one drawn at once: the same cards, the same order, one token each.
    assert titles(search).index("Набор бит для шуруповёрта") == len(titles(search)) - 1
    assert not set(drawn[1]) & drills  # only the products the category page did not show

    def card(html):  # the Makita card, without this response's CSRF token
        found = re.search(r'<li[^>]*data-product="%d".*?</li>' % catalogue["makita"].pk, html, re.S).group(0)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", found)

    assert card(category) == card(search)


def test_all_products_show_the_counts_before_a_change_while_they_are_counted_again(client, catalogue, monkeypatch):
    """
    The whole listing's counts are one pass over every row: after a change «Все товары»
    shows the previous counts at once and a background task counts again, once per change.
    """
    from shop import background
    from shop.apps.search import selectors

    scheduled = []
    monkeypatch.setattr(background, "enqueue", lambda task, *args, **kwargs: scheduled.append(task.name))
    brand = catalogue["brand"]
    first, _ = page(client, "/catalogue/")
    assert brand_counts(first, brand.pk) == {"Bosch": 2, "Makita": 1} and not scheduled  # counted here the first time

    new = ProductFactory(title="Дрель аккумуляторная Makita", categories=[catalogue["drills"]], stock=(Decimal("45990"), 1))
    set_option(new, brand, "Makita")
    stale, _ = page(client, "/catalogue/")
    assert brand_counts(stale, brand.pk) == {"Bosch": 2, "Makita": 1}
    assert scheduled == ["shop.apps.search.tasks.count_whole_listing"]
    page(client, "/catalogue/", sort_by="newest")
    assert len(scheduled) == 1  # once per change
    # A page filtered by a value counts the rows it lets through: its own count is never behind.
    makita, _ = page(client, "/catalogue/", **{f"f{brand.pk}": "Makita"})
    assert "2 товара" in makita and makita.count('class="product_pod"') == 2
    # The category's own counts are current at once.
    assert brand_counts(page(client, catalogue["drills"].get_absolute_url())[0], brand.pk) == {"Bosch": 2, "Makita": 2}

    selectors.count_whole_listing()  # what the task does
    fresh, _ = page(client, "/catalogue/")
    assert brand_counts(fresh, brand.pk) == {"Bosch": 2, "Makita": 2}


def test_all_products_count_at_once_when_the_counting_cannot_be_scheduled(client, catalogue, monkeypatch):
    from shop import background

    def broker_down(task, *args, **kwargs):
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(background, "enqueue", broker_down)
    brand = catalogue["brand"]
    page(client, "/catalogue/")
    new = ProductFactory(title="Дрель аккумуляторная Makita", categories=[catalogue["drills"]])
    set_option(new, brand, "Makita")
    html, _ = page(client, "/catalogue/")
    assert brand_counts(html, brand.pk) == {"Bosch": 2, "Makita": 2}
