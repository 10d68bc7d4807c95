"""Category pages price and tell the stock of every card without a query per product."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.core.loading import get_model

from .factories import (
    ChildProductFactory,
    CustomerGroupPriceTypeFactory,
    ParentProductFactory,
    PriceTypeFactory,
    ProductFactory,
    ProductPriceFactory,
    png,
    stock,
)

pytestmark = pytest.mark.django_db

Category = get_model("catalogue", "Category")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")


def category_with(count, warehouses, old_type, group_type):
    """A category of ``count`` cards: every third a parent with two variants, the rest standalone."""
    category = Category.add_root(name=f"Категория {count}", code=f"group-{count}")
    for n in range(count):
        if n % 3 == 0:
            product = ParentProductFactory()
            for quantity in (0, n + 1):
                child = ChildProductFactory(parent=product)
                stock(child, {warehouses[0]: quantity, warehouses[1]: 1}, price=str(1000 + n + quantity))
                ProductPriceFactory(product=child, price_type=old_type, price=Decimal(2000 + n))
        else:
            product = ProductFactory()
            stock(product, {warehouses[0]: n % 7, warehouses[1]: 0}, price=str(1000 + n))
            ProductPriceFactory(product=product, price_type=old_type, price=Decimal(2000 + n))
            ProductPriceFactory(product=product, price_type=group_type, price=Decimal(900 + n))
            ProductImage.objects.create(product=product, original=png(f"p{count}-{n}.png"), display_order=0)
        ProductCategory.objects.create(product=product, category=category)
    return category


def queries_for(client, url):
    client.get(url)  # warm caches that are not per product (session, thumbnails' key-value store)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_category_page_makes_no_query_per_product(client, settings, almaty, astana, django_user_model):
    old_type = PriceTypeFactory(name="Старая")
    settings.ONEC_OLD_PRICE_TYPE = "Старая"
    group_type = PriceTypeFactory(name="Оптовая")
    wholesale = CustomerGroupPriceTypeFactory(price_type=group_type)
    user = django_user_model.objects.create_user(username="opt", email="opt@example.com", password="x")
    user.groups.add(wholesale.group)

    few = category_with(5, [almaty, astana], old_type, group_type)
    many = category_with(24, [almaty, astana], old_type, group_type)

    few_count, few_html = queries_for(client, few.get_absolute_url())
    many_count, many_html = queries_for(client, many.get_absolute_url())
    assert few_html.count('class="product_pod"') == 5
    assert many_html.count('class="product_pod"') == 24
    assert few_count == many_count
    assert '<del class="old-price">' in many_html
    assert "от</span>" in many_html

    client.force_login(user)
    few_count, _ = queries_for(client, few.get_absolute_url())
    many_count, many_html = queries_for(client, many.get_absolute_url())
    assert few_count == many_count
    assert "Оптовая" not in many_html  # the group's price is shown, not its name
