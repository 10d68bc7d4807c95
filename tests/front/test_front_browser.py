"""
The storefront in a real browser (Debian's chromium driven by Playwright), at desktop
size (1280 px) and on a phone (390 px):

* choosing a size, then a colour, moves the price, the old price, the availability and
  the stock per warehouse to that variant without reloading the page, a colour out of
  stock in the chosen size cannot be chosen, and the basket receives exactly that variant;
* a walk through every page a shopper meets (home, category, product, basket, checkout
  start, login/registration, account pages, 404) finds no English interface text.
"""

import re

import pytest
from oscar.core.loading import get_model

from tests.conftest import launch_chromium, requires_chromium

from .catalogue import build_catalogue

pytestmark = requires_chromium

Line = get_model("basket", "Line")

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def live_catalogue(transactional_db, settings):
    # Rows first: Django refuses ORM calls while Playwright's event loop runs in this thread.
    return build_catalogue(settings)


def new_page(browser, viewport):
    page = browser.new_page(locale="ru-RU", viewport=VIEWPORTS[viewport])
    page.set_default_timeout(15_000)
    return page


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_choosing_size_then_colour_updates_price_and_stock(live_server, live_catalogue, viewport):
    from playwright.sync_api import expect, sync_playwright

    url = live_server.url + live_catalogue.tshirt.get_absolute_url()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport)
            page.goto(url)
            price = page.locator('[data-variant="price"]')
            old_price = page.locator('[data-variant="old-price"]')
            availability = page.locator('[data-variant="availability"]')
            warehouses = page.locator('[data-variant="warehouses"] li')
            buy = page.locator('[data-variant="buy"]')

            # Opens on S / Белый: 4 990 ₸ instead of 5 990 ₸, 3 pieces in Алматы.
            expect(price).to_have_text(re.compile(r"4\D?990"))
            expect(old_price).to_have_text(re.compile(r"5\D?990"))
            expect(availability).to_have_text("Осталось всего 3 шт.")
            size = lambda value: page.locator(f'input[name="axis_c_razmer"][value="{value}"]')  # noqa: E731
            colour = lambda value: page.locator(f'input[name="axis_c_tsvet"][value="{value}"]')  # noqa: E731
            notice = page.locator('[data-variant="notice"]')
            # XL is in stock in no colour: disabled. L is only in black, but sizes come
            # first and can always be changed.
            expect(size("XL")).to_be_disabled()
            for value in ("S", "M", "L"):
                expect(size(value)).to_be_enabled()
            # S exists in black too, but not in stock: with S chosen, Чёрный is disabled,
            # drawn unavailable and still readable.
            expect(colour("Чёрный")).to_be_disabled()
            black = page.locator('.variant-value:has(input[value="Чёрный"])')
            expect(black).to_have_class(re.compile("is-unavailable"))
            expect(page.locator('label[for]:text-is("Чёрный")')).to_be_visible()
            page.locator('label[for]:text-is("Чёрный")').click(force=True)
            expect(colour("Белый")).to_be_checked()
            expect(price).to_have_text(re.compile(r"4\D?990"))

            # Size M: M / Белый (the colour is kept, nothing to say): 5 290 ₸, only in Астана.
            page.locator('label[for]:text-is("M")').click()
            expect(price).to_have_text(re.compile(r"5\D?290"))
            expect(old_price).to_be_hidden()
            expect(availability).to_have_text("Осталось всего 2 шт.")
            expect(warehouses).to_have_text(["Алматы нет в наличии", "Астана 2 шт."])
            expect(notice).to_be_hidden()
            expect(colour("Чёрный")).to_be_enabled()

            # Then colour Чёрный: M / Чёрный: 5 490 ₸ instead of 6 990 ₸, −21 %, both warehouses.
            page.locator('label[for]:text-is("Чёрный")').click()
            expect(price).to_have_text(re.compile(r"5\D?490"))
            expect(old_price).to_have_text(re.compile(r"6\D?990"))
            expect(page.locator('[data-variant="discount"]')).to_have_text("−21%")
            expect(availability).to_have_text("В наличии")
            expect(warehouses).to_have_text(["Алматы 1 шт.", "Астана 4 шт."])
            expect(page.locator(".variant-axis__chosen")).to_have_text(["M", "Чёрный"])
            expect(buy).to_be_enabled()

            # Size S has no black: the colour moves to white, and the page says so.
            page.locator('label[for]:text-is("S")').click()
            expect(colour("Белый")).to_be_checked()
            expect(notice).to_have_text("Нет в наличии: S, Чёрный. Выбрано: S, Белый.")
            expect(page.locator(".variant-axis__chosen")).to_have_text(["S", "Белый"])
            expect(price).to_have_text(re.compile(r"4\D?990"))
            expect(colour("Чёрный")).to_be_disabled()

            page.locator('label[for]:text-is("L")').click()
            expect(colour("Чёрный")).to_be_checked()
            expect(colour("Белый")).to_be_disabled()
            expect(notice).to_have_text("Нет в наличии: L, Белый. Выбрано: L, Чёрный.")
            expect(warehouses).to_have_text(["Алматы 7 шт.", "Астана нет в наличии"])
            buy.click()
            page.wait_for_url("**" + live_catalogue.tshirt.get_absolute_url() + "**")
            expect(page.locator("#basket_count")).to_have_text("1")
        finally:
            browser.close()

    line = Line.objects.get()
    assert line.product == live_catalogue.variants[("L", "Чёрный")]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_pickup_points_follow_the_chosen_variant(live_server, live_catalogue, viewport):
    """With Алматы a pickup point, the page lists it (address, hours) and the courier's stock from Астана."""
    from playwright.sync_api import expect, sync_playwright

    from shop.apps.partner.models import Partner

    Partner.objects.filter(name="Алматы").update(
        is_pickup_point=True, pickup_address="пр. Абая, 52", pickup_hours="10:00–22:00"
    )
    url = live_server.url + live_catalogue.tshirt.get_absolute_url()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport)
            page.goto(url)
            point = page.locator('[data-variant="pickup"] [data-point]')
            courier = page.locator('[data-variant="pickup"] [data-courier]')
            expect(point).to_contain_text("пр. Абая, 52")
            expect(point).to_contain_text("10:00–22:00")
            # Opens on S / Белый: 3 at the point, none for a courier.
            expect(point.locator(".warehouse-amount")).to_have_text("3 шт.")
            expect(courier).to_have_text(re.compile(r"Курьерская доставка\s+нет в наличии"))
            expect(page.locator('[data-variant="warehouses"]')).to_have_count(0)

            page.locator('label[for]:text-is("M")').click()  # M / Белый: only in Астана
            expect(point.locator(".warehouse-amount")).to_have_text("нет в наличии")
            expect(point).to_have_class("out-of-stock")
            expect(courier.locator(".warehouse-amount")).to_have_text("2 шт.")
            page.locator('label[for]:text-is("Чёрный")').click()  # M / Чёрный: 1 and 4
            expect(point.locator(".warehouse-amount")).to_have_text("1 шт.")
            expect(courier.locator(".warehouse-amount")).to_have_text("4 шт.")
        finally:
            browser.close()


# --- No English on the shopper's pages -----------------------------------------------

#: Interface phrases of Oscar's that have escaped translation before.
ENGLISH_PHRASES = [
    "Your basket total is now",
    "Page 1 of",
    "Total:",
    "Submit",
    "Basket total",
    "View basket",
    "Checkout",
    "Login",
    "Register",
    "Account",
    "Search",
    "results",
    "Add to basket",
    "In stock",
    "Out of stock",
    "Continue shopping",
    "Proceed to checkout",
    "Products you recently viewed",
    "Browse store",
    "Offers",
    "Home",
    "Quantity",
    "Password",
    "Email",
    "Remove",
    "Save for later",
    "Voucher",
    "Page not found",
    "Order history",
    "Address book",
    "Profile",
    "Wish list",
    "Notifications",
    "Change password",
    "Delete",
]

#: Latin words that are not interface text: brands and models of the catalogue, units,
#: the English language switch, e-mail.
ALLOWED_WORDS = {"Bosch", "GSB", "RE", "Steppe", "XS", "XL", "XXL", "English", "mail", "KZT"}


def english_in(page):
    """English interface text of the page: known phrases, and Latin-only words."""
    text = page.locator("body").inner_text()
    extras = page.eval_on_selector_all(
        "input[placeholder], textarea[placeholder], input[type=submit], button[title], a[title], img[alt]",
        "els => els.map(e => e.getAttribute('placeholder') || e.value || e.title || e.alt || '')",
    )
    text = " ".join([text, *extras])
    text = re.sub(r"\S+@\S+|https?://\S+", " ", text)  # e-mail addresses and URLs
    found = [phrase for phrase in ENGLISH_PHRASES if re.search(r"\b%s\b" % re.escape(phrase), text)]
    words = {word for word in re.findall(r"(?<![\w-])[A-Za-z][A-Za-z'’]+(?![\w-])", text)} - ALLOWED_WORDS
    found.extend(sorted(words))
    return found


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_page_walk_finds_no_english(live_server, live_catalogue, django_user_model, viewport):
    from playwright.sync_api import sync_playwright

    from shop.management.commands import setup_shop

    setup_shop.setup_countries()
    django_user_model.objects.create_user("aigerim", "aigerim@example.kz", "Parol-12345")
    base = live_server.url
    catalogue = live_catalogue
    problems = {}
    shop_pages = [
        ("home", "/"),
        ("catalogue", "/catalogue/"),
        ("category", catalogue.tools.get_absolute_url()),
        ("subcategory", catalogue.tshirts.get_absolute_url()),
        ("product", catalogue.drill.get_absolute_url()),
        ("product with variants", catalogue.tshirt.get_absolute_url()),
        ("out-of-stock product", catalogue.hammer.get_absolute_url()),
        ("search", "/search/?q=дрель"),
        ("empty basket", "/basket/"),
        ("login and registration", "/accounts/login/"),
        ("password reset", "/password-reset/"),
        ("404", "/no-such-page/"),
    ]
    drill_url = catalogue.drill.get_absolute_url()

    def check(page, name):
        english = english_in(page)
        if english:
            problems[name] = english

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport)
            for name, path in shop_pages:
                page.goto(base + path)
                check(page, name)

            page.goto(base + drill_url)
            page.locator("#add_to_basket_form button[type=submit]").click()
            page.wait_for_load_state()
            check(page, "added to basket (messages)")
            page.goto(base + "/basket/")
            check(page, "basket")
            page.goto(base + "/checkout/")
            check(page, "checkout start")

            page.goto(base + "/accounts/login/")
            page.locator("#id_login-username").fill("aigerim@example.kz")
            page.locator("#id_login-password").fill("Parol-12345")
            page.locator("form#login_form button[type=submit]").click()
            page.wait_for_load_state()
            check(page, "after login")
            for name, path in [
                ("account", "/accounts/"),
                ("profile", "/accounts/profile/"),
                ("edit profile", "/accounts/profile/edit/"),
                ("change password", "/accounts/change-password/"),
                ("orders", "/accounts/orders/"),
                ("addresses", "/accounts/addresses/"),
                ("new address", "/accounts/addresses/add/"),
                ("e-mails", "/accounts/emails/"),
                ("stock alerts", "/accounts/alerts/"),
                ("notifications", "/accounts/notifications/inbox/"),
                ("wish lists", "/accounts/wishlists/"),
                ("account 404", "/accounts/orders/000000/"),
            ]:
                page.goto(base + path)
                check(page, name)
        finally:
            browser.close()

    assert problems == {}, problems


def test_phone_has_one_menu_button_and_products_above_the_fold(live_server, live_catalogue):
    from playwright.sync_api import expect, sync_playwright

    url = live_server.url + live_catalogue.clothes.get_absolute_url()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, "phone")
            page.goto(url)
            visible_buttons = [
                button
                for button in page.locator("button").all()
                if button.is_visible() and button.get_attribute("data-toggle") == "collapse"
                and button.get_attribute("data-target") == "#shop-menu"
            ]
            assert len(visible_buttons) == 1
            expect(page.locator(".navbar-toggler:visible")).to_have_count(0)
            expect(page.locator(".shop-header input[name=q]")).to_be_visible()
            first_card = page.locator(".product_pod").first.bounding_box()
            assert first_card["y"] + 120 < VIEWPORTS["phone"]["height"], first_card

            # The menu button opens the catalogue: its categories and the account links.
            expect(page.locator("#shop-menu")).to_be_hidden()
            visible_buttons[0].click()
            expect(page.locator("#shop-menu").get_by_role("link", name="Инструменты")).to_be_visible()
            expect(page.locator("#shop-menu").get_by_role("link", name="Вход и регистрация")).to_be_visible()
        finally:
            browser.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_price_and_buy_button_on_the_first_screen(live_server, live_catalogue, viewport):
    """On a 390 x 844 phone as on a desktop, the price and the buy button need no scrolling."""
    from playwright.sync_api import expect, sync_playwright

    height = VIEWPORTS[viewport]["height"]
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport)
            for product in (live_catalogue.drill, live_catalogue.tshirt):
                page.goto(live_server.url + product.get_absolute_url())
                buy = page.locator("#add_to_basket_form button[type=submit]")
                for element in (page.locator(".product_main .price_color .price"), buy):
                    expect(element).to_be_in_viewport(ratio=1)
                    box = element.bounding_box()
                    assert box["y"] + box["height"] <= height, (product.title, box)
                # The stock per warehouse follows the button.
                assert page.locator("[data-variant=warehouses]").bounding_box()["y"] > buy.bounding_box()["y"]
            # After a change the selectors explain (L has no white): the button stays in view.
            page.locator('label[for]:text-is("L")').click()
            expect(page.locator('[data-variant="notice"]')).to_be_visible()
            expect(page.locator("#add_to_basket_form button[type=submit]")).to_be_in_viewport(ratio=1)
        finally:
            browser.close()


def visible_collapse_buttons(page):
    """The buttons that fold something open (menus, filters) a shopper can see."""
    return [
        button.get_attribute("data-target")
        for button in page.locator("button[data-toggle=collapse]").all()
        if button.is_visible()
    ]


def log_in(page, base, email, password):
    page.goto(base + "/accounts/login/")
    page.locator("#id_login-username").fill(email)
    page.locator("#id_login-password").fill(password)
    page.locator("form#login_form button[type=submit]").click()
    page.wait_for_load_state()


def test_phone_account_pages_have_one_menu_button(live_server, live_catalogue, django_user_model):
    """Only listings add a filters button; an account page shows its sections as they are."""
    from playwright.sync_api import expect, sync_playwright

    django_user_model.objects.create_user("aigerim", "aigerim@example.kz", "Parol-12345")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, "phone")
            log_in(page, live_server.url, "aigerim@example.kz", "Parol-12345")
            for path in ["/accounts/profile/", "/accounts/orders/", "/accounts/addresses/"]:
                page.goto(live_server.url + path)
                assert visible_collapse_buttons(page) == ["#shop-menu"], path
                sections = page.locator(".account-nav")
                expect(sections.get_by_role("link", name="История заказов")).to_be_visible()
                expect(sections.get_by_role("link", name="Профиль")).to_be_in_viewport()
            # A listing keeps its filters button beside the menu.
            page.goto(live_server.url + live_catalogue.clothes.get_absolute_url())
            assert visible_collapse_buttons(page)[0] == "#shop-menu"
            assert len(visible_collapse_buttons(page)) == 2
        finally:
            browser.close()


#: What a card's title shows: the text down to the last character drawn inside the title's
#: box (line-clamp lays the rest out below it, hidden), and whether it was cut.
SHOWN_TITLE_JS = """
el => {
    const node = el.querySelector("a").firstChild;
    const bottom = el.getBoundingClientRect().bottom;
    const range = document.createRange();
    let lo = 0, hi = node.length;
    while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        range.setStart(node, mid - 1);
        range.setEnd(node, mid);
        const rect = range.getBoundingClientRect();
        if (rect.bottom <= bottom + 1) { lo = mid; } else { hi = mid - 1; }
    }
    return {full: node.data, shown: node.data.slice(0, lo), clamp: getComputedStyle(el).webkitLineClamp};
}
"""

KETTLES = ["Чайник электрический Redmond RK-G178", "Чайник электрический Xiaomi Mi Kettle"]
LONG_TITLE = "Дрель-миксер Интерскол ДУ-16/1000ЭР строительная с плавной регулировкой оборотов и двумя насадками"


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_card_titles_are_clamped_with_an_ellipsis_and_stay_distinct(live_server, live_catalogue, viewport):
    """A cut name ends in «…» after its lines, and two kettles never read the same."""
    from playwright.sync_api import sync_playwright

    from tests.stock.factories import ProductFactory, stock
    from tests.storefront.factories import CategoryFactory

    kitchen = CategoryFactory(name="Кухня")
    for title in [*KETTLES, LONG_TITLE]:
        product = ProductFactory(title=title)
        product.categories.add(kitchen)
        stock(product, {"Алматы": 5}, price="12490.00")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport)
            page.goto(live_server.url + kitchen.get_absolute_url())
            titles = [title.evaluate(SHOWN_TITLE_JS) for title in page.locator(".product_pod .product-title").all()]
        finally:
            browser.close()

    assert sorted(title["full"] for title in titles) == sorted([*KETTLES, LONG_TITLE])
    assert {title["clamp"] for title in titles} == {"3" if viewport == "phone" else "2"}
    by_title = {title["full"]: title for title in titles}
    # The long name is cut (its end is not drawn), the kettles are shown far enough to
    # tell them apart: the ellipsis covers at most the last few characters drawn.
    assert len(by_title[LONG_TITLE]["shown"]) < len(LONG_TITLE)
    readable = {
        title["full"]: title["shown"] if title["shown"] == title["full"] else title["shown"][:-3].rstrip() + "…"
        for title in titles
    }
    assert len(set(readable.values())) == len(readable), readable
    for kettle in KETTLES:
        assert len(readable[kettle].rstrip("…")) > len("Чайник электрический "), readable


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_suggestions_as_you_type_from_the_home_page(live_server, live_catalogue, viewport):
    """The header's search box suggests products on every page, the home page included."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport)
            page.goto(live_server.url + "/")
            page.locator(".shop-header input[name=q]").press_sequentially("футб", delay=30)
            suggestions = page.locator(".search-suggest:visible a")
            expect(suggestions.first).to_be_visible()
            expect(page.locator(".search-suggest")).to_contain_text("Футболка")
            box = page.locator(".search-suggest").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[viewport]["width"] + 1, box
        finally:
            browser.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_the_header_offers_the_shop_phone(live_server, live_catalogue, viewport):
    """A phone gets a tap-to-call icon in the header row (beside the account and the basket, no second
    menu button); a desktop shows the number and the hours."""
    from constance import config
    from playwright.sync_api import expect, sync_playwright

    config.SHOP_PHONE = "+7 (727) 355-00-11"
    config.SHOP_HOURS = "Пн–Пт 9:00–20:00"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport)
            page.goto(live_server.url + "/")
            call = page.locator(".shop-header__main a.shop-header__call")
            number = page.locator(".shop-header__phone")
            if viewport == "phone":
                expect(call).to_be_visible()
                expect(number).to_be_hidden()
                assert call.get_attribute("href") == "tel:+77273550011"
                assert call.get_attribute("title") == "Позвонить: +7 (727) 355-00-11"
                row = page.locator(".shop-header__main").bounding_box()
                box, basket = call.bounding_box(), page.locator(".shop-header__basket").bounding_box()
                assert box["y"] < row["y"] + 60 and box["x"] + box["width"] <= basket["x"], (box, basket)
                assert page.locator(".shop-menu-toggle:visible").count() == 1
                assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
            else:
                expect(call).to_be_hidden()
                expect(number).to_contain_text("+7 (727) 355-00-11")
                expect(number).to_contain_text("Пн–Пт 9:00–20:00")
        finally:
            browser.close()
