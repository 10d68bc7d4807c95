"""The storefront's pages read the database: home, categories, product pages, search, slugs."""

from decimal import Decimal

import pytest
from django.urls import reverse

from .factories import (
    CategoryFactory,
    ChildProductFactory,
    ParentProductFactory,
    ProductFactory,
    set_stock,
    set_text_attribute,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """Инструменты > Электроинструмент > Дрели, and a second root «Сад»."""
    tools = CategoryFactory(name="Инструменты")
    power = CategoryFactory(name="Электроинструмент", parent=tools)
    drills = CategoryFactory(name="Дрели", parent=power)
    garden = CategoryFactory(name="Сад")
    return {"tools": tools, "power": power, "drills": drills, "garden": garden}


def page(client, url, **params):
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200, response
    return response.content.decode()


def test_home_page_shows_top_categories_and_new_products(client, tree):
    ProductFactory(title="Дрель ударная", categories=[tree["drills"]])
    ProductFactory(title="Секатор", categories=[tree["garden"]], is_public=False)

    html = page(client, "/")

    assert 'lang="ru"' in html
    assert "Инструменты" in html and "Сад" in html
    assert "Дрели" not in html  # only the first level
    assert "Дрель ударная" in html
    assert "Секатор" not in html  # hidden by 1C
    assert "Новинки" in html


def test_category_page_lists_products_of_descendant_categories(client, tree):
    ProductFactory(title="Дрель ударная", categories=[tree["drills"]])
    ProductFactory(title="Лобзик", categories=[tree["power"]])
    ProductFactory(title="Грабли", categories=[tree["garden"]])

    html = page(client, tree["tools"].get_absolute_url())

    assert "Дрель ударная" in html and "Лобзик" in html
    assert "Грабли" not in html
    assert "Электроинструмент" in html  # subcategory links

    drills_html = page(client, tree["drills"].get_absolute_url())
    assert "Дрель ударная" in drills_html and "Лобзик" not in drills_html


def test_hidden_product_and_hidden_category_are_not_shown(client, tree):
    ProductFactory(title="Дрель снятая", categories=[tree["drills"]], is_public=False)
    ProductFactory(title="Дрель видимая", categories=[tree["drills"]])

    html = page(client, tree["tools"].get_absolute_url())
    assert "Дрель видимая" in html and "Дрель снятая" not in html

    tree["drills"].is_public = False
    tree["drills"].save()
    assert "Дрель видимая" not in page(client, tree["tools"].get_absolute_url())
    assert client.get(tree["drills"].get_absolute_url()).status_code == 404


def test_changes_show_on_the_next_page_load_without_reindexing(client, tree):
    product = ProductFactory(title="Перфоратор", categories=[tree["drills"]], stock=(Decimal("15000"), 5))
    url = tree["tools"].get_absolute_url()
    assert "15 000" in page(client, url).replace("\xa0", " ")

    set_stock(product, Decimal("17990"), 5)  # 1C sent a new price
    html = page(client, url).replace("\xa0", " ")
    assert "17 990" in html and "15 000" not in html

    product.is_public = False  # 1C marked it deleted
    product.save()
    assert "Перфоратор" not in page(client, url)

    product.is_public = True
    product.save()
    assert "Перфоратор" in page(client, url)


def test_listing_shows_parents_not_their_variants(client, tree):
    parent = ParentProductFactory(title="Футболка", categories=[tree["garden"]])
    ChildProductFactory(parent=parent, title="Футболка красная, XL")

    html = page(client, tree["garden"].get_absolute_url())
    assert "Футболка" in html
    assert "Футболка красная, XL" not in html


def test_pagination_and_ordering(client, tree, settings):
    for n in range(30):
        ProductFactory(title=f"Товар {n:02d}", categories=[tree["garden"]], stock=(Decimal(100 + n), 1))
    url = tree["garden"].get_absolute_url()

    first = page(client, url, sort_by="price-asc")
    second = page(client, url, sort_by="price-asc", page=2)
    assert first.count('class="product_pod"') == 24
    assert second.count('class="product_pod"') == 6
    assert "Товар 00" in first and "Товар 29" in second

    newest_first = page(client, url, sort_by="title-desc")
    assert newest_first.index("Товар 29") < newest_first.index("Товар 28")

    # A page past the end (products were hidden meanwhile) goes back to page one.
    response = client.get(url, {"page": 9})
    assert response.status_code == 302 and response["Location"] == url


def test_all_products_page(client, tree):
    ProductFactory(title="Дрель ударная", categories=[tree["drills"]])
    ProductFactory(title="Без группы")
    html = page(client, reverse("catalogue:index"))
    assert "Дрель ударная" in html and "Без группы" in html


def test_product_page(client, tree):
    product = ProductFactory(
        title="Дрель ударная", description="Мощная дрель", categories=[tree["drills"]], with_image=True
    )
    html = page(client, product.get_absolute_url())
    assert "Дрель ударная" in html and "Мощная дрель" in html
    assert 'action="/basket/add/%d/"' % product.pk in html


def test_search_by_russian_words_in_any_case(client):
    ProductFactory(title="Дрель ударная Bosch", description="Сверлит бетон и кирпич")
    ProductFactory(title="Шуруповёрт Makita", description="Аккумуляторный")
    ProductFactory(title="Дрель снятая", is_public=False)

    html = page(client, reverse("search:search"), q="дрель")
    assert "Дрель ударная Bosch" in html and "Шуруповёрт" not in html and "Дрель снятая" not in html

    # Every word must match, in the title or in the description.
    assert "Дрель ударная Bosch" in page(client, reverse("search:search"), q="ДРЕЛЬ бетон")
    assert "Дрель ударная Bosch" not in page(client, reverse("search:search"), q="дрель аккумуляторный")
    assert "Шуруповёрт Makita" in page(client, reverse("search:search"), q="аккумуляторный makita")
    assert "Шуруповёрт Makita" in page(client, reverse("search:search"), q="шуруповерт")  # е for ё


def test_search_by_article_code_and_barcode(client):
    drill = ProductFactory(title="Дрель", article="GSB-13RE")
    parent = ParentProductFactory(title="Футболка")
    child = ChildProductFactory(parent=parent, title="Футболка XL")
    set_text_attribute(child, "barcode", "Штрихкод", "4601234567890")
    ProductFactory(title="Другое")

    def found(q):
        return page(client, reverse("search:search"), q=q)

    assert "Дрель" in found("gsb-13re") and "Другое" not in found("gsb-13re")
    assert "Дрель" in found(drill.code)
    assert "Футболка" in found("4601234567890")  # a variant's barcode finds its parent
    assert "Футболка" in found(child.code)
    assert "Футболка XL" not in found("4601234567890")


def test_empty_search_leads_to_all_products(client):
    ProductFactory(title="Дрель")
    response = client.get(reverse("search:search"), {"q": ""}, follow=True)
    assert response.redirect_chain == [(reverse("catalogue:index"), 302)]
    assert "Дрель" in response.content.decode()


def test_cyrillic_titles_get_readable_slugs(client):
    category = CategoryFactory(name="Электроинструмент и оснастка")
    product = ProductFactory(title="Дрель ударная «Мастер» 750 Вт", categories=[category])

    assert category.slug == "elektroinstrument-i-osnastka"
    assert product.slug == "drel-udarnaia-master-750-vt"
    assert product.get_absolute_url() == f"/catalogue/drel-udarnaia-master-750-vt_{product.pk}/"
    page(client, product.get_absolute_url())
    page(client, category.get_absolute_url())
