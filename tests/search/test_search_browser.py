"""
Filters and search in a real browser (Debian's chromium driven by Playwright), at
desktop size (1280 px) and on a phone (390 px):

* on a category page, ticking a property's value narrows the products to it, and a
  price range narrows them again, with the counts beside the values following each step;
* a search in another form of a word («дрели») finds the products titled «Дрель…»,
  titles before the product that only mentions the word in its description.
"""

import re

import pytest

from tests.conftest import launch_chromium, requires_chromium

from .conftest import build_catalogue

pytestmark = requires_chromium

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def live_catalogue(transactional_db):
    # Rows first: Django refuses ORM calls while Playwright's event loop runs in this thread.
    return build_catalogue()


def open_page(playwright, viewport, url):
    browser = launch_chromium(playwright)
    page = browser.new_page(locale="ru-RU", viewport=VIEWPORTS[viewport])
    page.set_default_timeout(15_000)
    page.goto(url)
    return browser, page


def open_filters(page, viewport):
    """On a phone the filter panel folds behind one button, so that products come first."""
    from playwright.sync_api import expect

    if viewport == "phone":
        page.locator(".listing-filters-toggle").click()
        # Until Bootstrap's opening animation ends the values move under the pointer, and a
        # click on a busy machine could land beside the box.
        expect(page.locator("#listing-filters")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    page.locator("#listing-filters").wait_for(state="visible")


def titles(page):
    return page.locator(".product_pod .product-title").all_inner_texts()


def facet_value(page, text):
    return page.locator("#listing-filters label.facet-value", has_text=re.compile(rf"^\s*{text}\b"))


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_a_property_and_a_price_range_narrow_a_category_with_counts(live_server, live_catalogue, viewport):
    from playwright.sync_api import expect, sync_playwright

    url = live_server.url + live_catalogue["drills"].get_absolute_url()
    with sync_playwright() as playwright:
        browser, page = open_page(playwright, viewport, url)
        try:
            expect(page.locator(".listing-count")).to_have_text(re.compile(r"^\s*3 товара\s*$"))
            open_filters(page, viewport)
            expect(facet_value(page, "Bosch").locator(".facet-count")).to_have_text("2")
            expect(facet_value(page, "Makita").locator(".facet-count")).to_have_text("1")

            # Ticking Bosch applies at once: two drills, and the page's address holds the filter.
            with page.expect_navigation(url=re.compile(r"\?.*=Bosch")):
                facet_value(page, "Bosch").locator("input").click()  # the page reloads at once
            expect(page.locator(".listing-count")).to_have_text(re.compile(r"^\s*2 товара\s*$"))
            assert sorted(titles(page)) == ["Дрель Bosch Professional", "Дрель ударная Bosch"]

            # A price range on top: only the cheaper Bosch, and the counts say so.
            open_filters(page, viewport)
            page.locator('#listing-filters input[name="price_max"]').fill("40000")
            with page.expect_navigation(url=re.compile(r"price_max=40000")):
                page.locator("#listing-filters button[type=submit]").click()
            expect(page.locator(".listing-count")).to_have_text(re.compile(r"^\s*1 товар\s*$"))
            assert titles(page) == ["Дрель ударная Bosch"]
            open_filters(page, viewport)
            expect(facet_value(page, "Bosch").locator("input")).to_be_checked()
            expect(facet_value(page, "Bosch").locator(".facet-count")).to_have_text("1")
            expect(facet_value(page, "Makita")).to_have_count(0)  # no Makita within the price
            expect(page.locator('#listing-filters input[name="price_max"]')).to_have_value("40000")
        finally:
            browser.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_a_search_in_another_form_of_the_word_finds_the_titles_first(live_server, live_catalogue, viewport):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_page(playwright, viewport, live_server.url + "/")
        try:
            page.locator("#id_q").fill("дрели")
            page.locator("#id_q").press("Enter")
            page.wait_for_url(re.compile(r"/search/\?q="))
            expect(page.locator("#id_q")).to_have_value("дрели")
            found = titles(page)
            drills = {"Дрель ударная Bosch", "Дрель Bosch Professional", "Дрель безударная Makita"}
            # In stock first among the titles (the Bosch Professional has none), then the
            # set of bits, whose description alone mentions a drill.
            assert set(found[:3]) == drills
            assert found[3:] == ["Набор бит для шуруповёрта"]
            expect(page.locator("body")).not_to_contain_text("ничего не нашлось")
        finally:
            browser.close()
