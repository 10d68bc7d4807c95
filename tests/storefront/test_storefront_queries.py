"""A category page costs the same number of SQL queries for 5 products as for a full page of 24."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import CategoryFactory, ChildProductFactory, ParentProductFactory, ProductFactory

pytestmark = pytest.mark.django_db


def add_products(category, count):
    """``count`` listed products: standalone ones with a picture, and one parent with two variants."""
    parent = ParentProductFactory(categories=[category], with_image=True)
    ChildProductFactory(parent=parent)
    ChildProductFactory(parent=parent)
    for _ in range(count - 1):
        ProductFactory(categories=[category], with_image=True)


def queries_of(client, url):
    client.get(url)  # thumbnails are made (and their keys stored) on the first view only
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode().count('class="product_pod"')


def test_category_page_query_count_does_not_grow_with_products(client):
    root = CategoryFactory(name="Инструменты")
    leaf = CategoryFactory(name="Дрели", parent=root)
    url = root.get_absolute_url()

    add_products(leaf, 5)
    queries_for_5, shown = queries_of(client, url)
    assert shown == 5

    add_products(leaf, 19)
    queries_for_24, shown = queries_of(client, url)
    assert shown == 24

    assert queries_for_24 == queries_for_5, f"{queries_for_5} queries for 5 products, {queries_for_24} for 24"
