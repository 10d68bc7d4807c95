"""
One walk through the shop in a real browser (Debian's chromium driven by Playwright):
home → category → product → add to basket → guest checkout → order confirmation.
"""

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from shop.management.commands import setup_shop

from tests.conftest import launch_chromium, requires_chromium

from .factories import CategoryFactory, ProductFactory

Order = get_model("order", "Order")

pytestmark = requires_chromium


@pytest.mark.django_db(transaction=True)
def test_guest_buys_a_product_in_the_browser(live_server, settings):
    # Rows first: Django refuses ORM calls while Playwright's event loop runs in this thread.
    setup_shop.setup_sales_partner()
    setup_shop.setup_countries()
    tools = CategoryFactory(name="Инструменты")
    drills = CategoryFactory(name="Дрели", parent=tools)
    product = ProductFactory(title="Дрель ударная", categories=[drills], stock=(Decimal("25990.00"), 4))
    confirmation = walk_through_the_shop(live_server.url, product_title=product.title)

    order = Order.objects.get()
    assert order.number in confirmation
    assert order.guest_email == "guest@example.kz"
    assert order.lines.get().product == product
    assert order.sources.get().source_type.name == "Наличными при получении"


def walk_through_the_shop(base_url, product_title):
    """Drive chromium through the storefront; return the text of the confirmation page."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(locale="ru-RU")
            page.set_default_timeout(15_000)

            page.goto(base_url + "/")
            page.locator(".home-categories").get_by_role("link", name="Инструменты").click()
            expect(page.locator("h1")).to_have_text("Инструменты")

            page.locator(".product_pod").get_by_role("link", name=product_title).first.click()
            expect(page.locator("h1")).to_contain_text(product_title)

            page.locator("#add_to_basket_form button[type=submit]").click()
            page.goto(base_url + "/basket/")
            page.get_by_role("link", name="Перейти к оформлению").click()

            # Step 1 of three: contacts and delivery on one page.
            page.locator("#id_guest_email").fill("guest@example.kz")
            page.locator("#id_first_name").fill("Айгерим")
            page.locator("#id_last_name").fill("Сапарова")
            page.locator("#id_phone_number").fill("+77011234567")
            page.locator("#id_method_courier").check()
            page.locator("#id_line4").fill("Алматы")
            page.locator("#id_line1").fill("пр. Абая, 10")
            page.locator("#delivery-continue").click()

            page.get_by_label("Наличными при получении").check()
            page.locator("#view_preview").click()
            expect(page.locator("#chosen-payment-method")).to_contain_text("Наличными при получении")

            page.locator("#place-order").click()
            page.wait_for_url("**/checkout/thank-you/")
            return page.locator("body").inner_text()
        finally:
            browser.close()
