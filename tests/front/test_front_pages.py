"""The storefront's look without a browser: product page, cards, frame, home, error pages, plurals."""

import json
import re

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation
from oscar.core.loading import get_model

from shop.apps.partner.display import natural_key, split_unit

from .catalogue import TSHIRT_VARIANTS

pytestmark = pytest.mark.django_db

ConditionalOffer = get_model("offer", "ConditionalOffer")


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def text_of(html):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- Natural order of characteristic values ----------------------------------------


@pytest.mark.parametrize(
    "values, expected",
    [
        (["XL", "L", "M", "S", "XXL"], ["S", "M", "L", "XL", "XXL"]),
        (["3XL", "XS", "2XL", "M"], ["XS", "M", "2XL", "3XL"]),
        (["41", "39", "40", "42,5", "42"], ["39", "40", "41", "42", "42,5"]),
        (["128 ГБ", "64 ГБ", "256 ГБ"], ["64 ГБ", "128 ГБ", "256 ГБ"]),
        (["Чёрный", "белый", "Синий"], ["белый", "Синий", "Чёрный"]),
        (["44-46", "40-42", "48-50"], ["40-42", "44-46", "48-50"]),
    ],
)
def test_characteristic_values_in_natural_order(values, expected):
    assert sorted(values, key=natural_key) == expected


def test_unit_is_read_from_the_property_name():
    assert split_unit("Гарантия, мес") == ("Гарантия", "мес")
    assert split_unit("Вес, кг") == ("Вес", "кг")
    assert split_unit("Материал") == ("Материал", "")


# --- Product page ----------------------------------------------------------------------


def test_properties_as_1c_means_them(client, catalogue):
    html = html_of(client, catalogue.drill.get_absolute_url())
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', html)

    assert ("Гарантия", "24\xa0мес") in rows
    assert ("Вес", "1,8\xa0кг") in rows
    assert "24,0" not in html and "Гарантия, мес" not in html
    # The article is shown under the title, not as a property.
    assert "Артикул: ИН-1000" in text_of(html)
    assert not any(name == "Артикул" for name, _ in rows)


def test_unset_number_is_hidden(client, catalogue):
    html = html_of(client, catalogue.hammer.get_absolute_url())
    assert "Гарантия" not in html
    assert "0,0" not in html


def test_old_price_crossed_out_with_discount_on_page_and_card(client, catalogue):
    html = html_of(client, catalogue.drill.get_absolute_url())
    assert re.search(r'<del class="old-price">\s*39\D?590', html)
    assert re.search(r'class="discount">−17%<', html)

    listing = html_of(client, catalogue.tools.get_absolute_url())
    card = listing[listing.index("Дрель Bosch") - 2000 : listing.index("Дрель Bosch") + 2000]
    assert re.search(r'class="product-badge">−17%<', card)
    assert re.search(r'<del class="old-price">\s*39\D?590', card)


def test_no_old_price_without_an_old_price_type(client, catalogue, settings):
    settings.ONEC_OLD_PRICE_TYPE = ""
    html = html_of(client, catalogue.drill.get_absolute_url())
    assert "old-price" not in html.split('id="variant_data"')[0].split("<del")[0] or "<del" not in html
    assert "−17%" not in html


def test_one_selector_per_characteristic_in_natural_order(client, catalogue):
    html = html_of(client, catalogue.tshirt.get_absolute_url())

    legends = [text_of(legend).split(":")[0] for legend in re.findall(r"<legend>(.*?)</legend>", html, re.S)]
    assert legends == ["Размер", "Цвет"]
    sizes = re.findall(r'name="axis_c_razmer"[^>]*value="([^"]+)"', html)
    colours = re.findall(r'name="axis_c_tsvet"[^>]*value="([^"]+)"', html)
    assert sizes == ["S", "M", "L", "XL"]
    assert colours == ["Белый", "Чёрный"]
    # XL has no variant in stock: disabled; the other sizes can be chosen, L too although
    # it has only black (the first selector can always be changed).
    radios = re.findall(r'(<input[^>]*name="axis_c_\w+"[^>]*value="([^"]+)"[^>]*>)', html)
    inputs = {value: tag for tag, value in radios}
    assert [size for size in ["S", "M", "L", "XL"] if "disabled" in inputs[size]] == ["XL"]
    s = inputs["S"]
    # No black in S: with S chosen, Чёрный is disabled (not only struck through).
    assert "disabled" in inputs["Чёрный"] and "disabled" not in inputs["Белый"]
    # The page opens on the smallest size in stock: S / Белый, and its price and stock.
    assert "checked" in s
    offer = html[html.index('id="variant_offer"') : html.index('id="add_to_basket_form"')]
    assert re.search(r'data-variant="price">\s*4\D?990', offer)
    assert re.search(r"5\D?990", offer)  # its old price
    assert "Осталось всего 3 шт." in text_of(offer)


def test_variant_data_follows_every_variant(client, catalogue):
    html = html_of(client, catalogue.tshirt.get_absolute_url())
    data = json.loads(re.search(r'<script id="variant_data" type="application/json">(.*?)</script>', html, re.S).group(1))

    assert [axis["values"] for axis in data["axes"]] == [["S", "M", "L", "XL"], ["Белый", "Чёрный"]]
    by_values = {(v["values"]["c_razmer"], v["values"]["c_tsvet"]): v for v in data["variants"]}
    assert set(by_values) == set(TSHIRT_VARIANTS)
    black_m = by_values[("M", "Чёрный")]
    assert black_m["can_buy"] and black_m["num_available"] == 5
    assert re.match(r"5\D?490", black_m["price"]) and re.match(r"6\D?990", black_m["old_price"])
    assert black_m["discount"] == "−21%"
    assert [(w["name"], w["text"]) for w in black_m["warehouses"]] == [("Алматы", "1 шт."), ("Астана", "4 шт.")]
    assert not by_values[("S", "Чёрный")]["can_buy"]
    assert by_values[("S", "Чёрный")]["availability"] == "Нет в наличии"


def test_headline_availability_agrees_with_the_variants(client, catalogue):
    for child in catalogue.tshirt.children.all():
        child.stockrecords.update(num_in_stock=0)
    html = html_of(client, catalogue.tshirt.get_absolute_url())
    offer = text_of(html[html.index('id="variant_offer"') : html.index('id="add_to_basket_form"')])
    assert "Нет в наличии" in offer
    assert re.search(r'data-variant="buy" disabled', html)


def test_related_products_from_the_same_category(client, catalogue):
    html = html_of(client, catalogue.drill.get_absolute_url())
    related = html[html.index('id="related_products"') :]
    assert "Молоток слесарный" in related
    assert "Футболка" not in related


# --- Cards and frame -----------------------------------------------------------------


def test_cards_show_no_empty_stars(client, catalogue):
    html = html_of(client, catalogue.tools.get_absolute_url())
    assert "star-rating" not in html


def test_offers_link_only_when_there_are_offers(client, catalogue):
    assert 'href="/offers/"' not in html_of(client, "/")
    from oscar.test.factories import ConditionalOfferFactory

    ConditionalOfferFactory(name="Скидка недели", offer_type=ConditionalOffer.SITE)
    assert 'href="/offers/"' in html_of(client, "/")


def test_one_menu_button_and_search_in_the_header(client, catalogue):
    html = html_of(client, "/")
    header = html[html.index('<header class="shop-header">') : html.index("</header>")]
    assert header.count('data-toggle="collapse"') == 1
    assert header.count("navbar-toggler") == 0
    assert 'name="q"' in header
    assert 'href="/basket/"' in header


def test_where_is_my_order_is_linked_from_footer_and_guest_menu(client, catalogue, django_user_model):
    html = html_of(client, "/")
    footer = html[html.index('<footer class="shop-footer">') :]
    menu = html[html.index('id="shop-menu"') : html.index("</nav>", html.index('id="shop-menu"'))]
    for part in (footer, menu):
        assert re.search(r'<a[^>]*href="/order-status/"[^>]*>Где мой заказ\?</a>', part), part
    # A customer signed in finds orders in the account; the footer keeps the link.
    client.force_login(django_user_model.objects.create_user("a", "a@example.kz", "x"))
    html = html_of(client, "/")
    menu = html[html.index('id="shop-menu"') : html.index("</nav>", html.index('id="shop-menu"'))]
    assert 'href="/order-status/"' not in menu
    assert 'href="/order-status/"' in html[html.index('<footer class="shop-footer">') :]


def test_basket_page_keeps_the_headers_basket_button(client, catalogue):
    def header(html):
        return html[html.index('<header class="shop-header">') : html.index("</header>")]

    assert 'class="shop-header__basket"' in header(html_of(client, "/basket/"))
    client.post(f"/basket/add/{catalogue.drill.pk}/", {"quantity": 1})
    html = html_of(client, "/basket/")
    assert re.search(r'id="basket_count">1<', header(html))

    # Changing the quantity without a reload redraws the button too.
    form = html[html.index('id="basket_formset"') : html.index("</form>", html.index('id="basket_formset"'))]
    data = {
        name: value
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)
        if name != "csrfmiddlewaretoken"
    }
    quantity = next(name for name in data if name.endswith("-quantity"))
    data[quantity] = "3"
    response = client.post("/basket/", data, headers={"x-requested-with": "XMLHttpRequest"})
    answer = response.json()
    assert re.search(r'id="basket_count">3<', answer["mini_basket_html"])
    assert 'class="shop-header__basket"' in answer["mini_basket_html"]


def test_account_sections_lead_to_no_empty_page(client, catalogue, django_user_model):
    from oscar.apps.communication.utils import Dispatcher

    user = django_user_model.objects.create_user("a", "a@example.kz", "x")
    client.force_login(user)

    def sections():
        html = html_of(client, "/accounts/profile/")
        nav = html[html.index('class="nav nav-pills') : html.index("</ul>", html.index('class="nav nav-pills'))]
        return [text_of(link) for link in re.findall(r"<a[^>]*>.*?</a>", nav, re.S)]

    assert sections() == ["Профиль", "История заказов", "Адреса", "Письма", "Уведомления о поступлении"]
    # No wish lists: the old addresses lead to the account, and nothing links to them.
    for path in ["/accounts/wishlists/", "/accounts/wishlists/create/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/", path
    assert "/accounts/wishlists/" not in html_of(client, catalogue.drill.get_absolute_url())
    # «Уведомления» appears once something (1C's order status, a stock alert) left one.
    Dispatcher().notify_user(user, "Заказ 100001: Отгружен")
    assert sections()[-1] == "Уведомления"


def test_shop_identity_in_header_and_footer(client, catalogue):
    from constance.test import override_config

    with override_config(
        SHOP_NAME="ТехноДом", SHOP_PHONE="+7 (727) 355-00-55", SHOP_ADDRESS="Алматы, пр. Абая, 150",
        SHOP_HOURS="Пн–Сб 9:00–20:00", SHOP_EMAIL="info@technodom.kz",
    ):
        html = html_of(client, "/")
    header = html[html.index('<header class="shop-header">') : html.index("</header>")]
    footer = html[html.index('<footer class="shop-footer">') :]
    for part in (header, footer):
        assert "ТехноДом" in part or "ТехноДом" in html[: html.index("<header")]
        assert 'href="tel:+77273550055"' in part
    assert "Алматы, пр. Абая, 150" in footer and "Пн–Сб 9:00–20:00" in footer
    assert "info@technodom.kz" in footer


def test_home_shows_categories_new_arrivals_and_in_stock(client, catalogue):
    html = html_of(client, "/")
    assert 'class="home-categories"' in html
    assert "Одежда" in html and "Инструменты" in html
    assert 'id="new_arrivals"' in html


def test_in_stock_section_lists_only_what_can_be_bought(catalogue):
    from shop.templatetags.storefront_tags import in_stock_products

    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    titles = set(Product.objects.filter(pk__in=in_stock_products(8)).values_list("title", flat=True))
    assert titles == {"Футболка Steppe хлопок", "Дрель Bosch GSB 13 RE"}


# --- Error pages ------------------------------------------------------------------------


@override_settings(DEBUG=False)
def test_404_in_the_shops_layout(client, catalogue):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<header class="shop-header">' in html and '<footer class="shop-footer">' in html
    assert "Страница не найдена" in html


def test_500_renders_without_a_request_or_database(settings, django_assert_num_queries):
    from django.template import loader

    settings.SHOP_NAME = "ТехноДом"
    with translation.override("ru"), django_assert_num_queries(0):
        html = loader.get_template("500.html").render({})
    assert "У нас что-то сломалось" in html
    assert "shop.css" in html
    # The shop's name from the settings, not only an icon.
    assert re.search(r'<span class="shop-brand__name">ТехноДом</span>', html)


def test_error_pages_can_be_seen_in_development(client, catalogue, settings):
    """With DEBUG on (``make run``) Django shows its technical 404; the shop's own pages are here."""
    if not settings.ERROR_PAGE_PREVIEWS:
        pytest.skip("DEBUG is off in the environment: no previews")
    response = client.get("/errors/404/")
    assert response.status_code == 404 and "Страница не найдена" in response.content.decode()
    response = client.get("/errors/500/")
    assert response.status_code == 500 and "У нас что-то сломалось" in response.content.decode()


def test_pages_label_breadcrumbs_in_russian_and_carry_no_created_date(client, catalogue, django_user_model):
    def check(url):
        html = html_of(client, url)
        assert 'aria-label="breadcrumb"' not in html, url
        assert '<meta name="created"' not in html, url
        if url != "/":
            assert '<nav aria-label="Хлебные крошки"' in html, url

    client.post(f"/basket/add/{catalogue.drill.pk}/", {"quantity": 1})
    for url in [catalogue.drill.get_absolute_url(), catalogue.tshirt.get_absolute_url(), "/basket/",
                "/accounts/login/", "/password-reset/", catalogue.tools.get_absolute_url(), "/"]:
        check(url)
    client.force_login(django_user_model.objects.create_user("a", "a@example.kz", "x"))
    for url in ["/accounts/profile/", "/accounts/orders/", "/accounts/addresses/", "/accounts/alerts/"]:
        check(url)


# --- Plurals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "count, expected", [(1, "1 товар"), (3, "3 товара"), (5, "5 товаров"), (11, "11 товаров"), (21, "21 товар"), (60, "60 товаров")]
)
def test_basket_button_counts_items_with_russian_plurals(client, catalogue, count, expected):
    from django.urls import reverse

    response = client.post(reverse("basket:add", kwargs={"pk": catalogue.drill.pk}), {"quantity": 1})
    assert response.status_code == 302
    from oscar.core.loading import get_model

    Line = get_model("basket", "Line")
    Line.objects.update(quantity=count)
    catalogue.drill.stockrecords.update(num_in_stock=100)
    html = html_of(client, "/")
    header = html[html.index('<header class="shop-header">') : html.index("</header>")]
    assert re.search(r'class="shop-header__count">%s<' % expected, header)


@pytest.mark.parametrize(
    "count, expected", [(1, "1 товар."), (3, "3 товара."), (5, "5 товаров."), (22, "22 товара."), (60, "60 товаров.")]
)
def test_oscar_plural_strings_in_russian(count, expected):
    """Oscar's own plural (the listing's «N results.», msgid exactly as Oscar's template writes it)."""
    from django.utils.translation import ngettext

    singular = "\n                    <strong>%(num_results)s</strong> result.\n                "
    plural = "\n                    <strong>%(num_results)s</strong> results.\n                "
    with translation.override("ru"):
        text = ngettext(singular, plural, count) % {"num_results": count}
    assert text_of(text) == expected


@pytest.mark.parametrize("count, expected", [(1, "1 отзыв"), (4, "4 отзыва"), (12, "12 отзывов")])
def test_plural_of_reviews(count, expected):
    from django.utils.translation import ngettext

    singular = "\n                    %(num_reviews)s customer review\n                "
    plural = "\n                    %(num_reviews)s customer reviews\n                "
    with translation.override("ru"):
        text = ngettext(singular, plural, count)
    assert " ".join((text % {"num_reviews": count}).split()) == expected


@pytest.mark.parametrize(
    "count, expected", [(1, "1 товар"), (3, "3 товара"), (1234, "1\xa0234 товара"), (16434, "16\xa0434 товара")]
)
def test_listing_count_groups_thousands_in_russian(count, expected):
    """«16 434 товара» above a category's cards: the plural by the number, the digits grouped."""
    from django.template.loader import render_to_string

    class Paginator:
        pass

    paginator = Paginator()
    paginator.count = count
    with translation.override("ru"):
        html = render_to_string("search/partials/toolbar.html", {"paginator": paginator})
    assert re.search(r'class="listing-count"[^>]*>\s*%s\s*<' % re.escape(expected), html), html


def test_recently_viewed_products_are_cards_of_the_cards_cache(client, catalogue):
    """Under a product page, what the shopper saw before, in Russian, at a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    html_of(client, catalogue.hammer.get_absolute_url())
    with CaptureQueriesContext(connection) as one_seen:
        html = html_of(client, catalogue.drill.get_absolute_url())
    viewed = html[html.index('id="recently_viewed"') :]
    assert "Вы смотрели" in viewed and "Молоток слесарный" in viewed
    html_of(client, catalogue.tshirt.get_absolute_url())  # a parent: its variants' stock on its card
    with CaptureQueriesContext(connection) as two_seen:
        html = html_of(client, catalogue.drill.get_absolute_url())
    viewed = html[html.index('id="recently_viewed"') :]
    assert "Футболка Steppe хлопок" in viewed and "Молоток слесарный" in viewed
    assert "Дрель Bosch GSB 13 RE" not in viewed  # not the page's own product
    # A second card costs no query of its own; a parent's card reads its variants' stock
    # records in one more, whatever their number (Oscar's own drew each card with 3–6).
    assert len(two_seen) <= len(one_seen) + 1, (len(one_seen), len(two_seen))
