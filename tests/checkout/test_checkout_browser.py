"""
The checkout in a real browser (Debian's chromium, Playwright): a pickup order whose
basket is complete at one point only, a courier order, and a guest finding an order by
its number and phone.
"""

import pytest
from django.test import Client
from oscar.core.loading import get_model

from tests.conftest import launch_chromium, requires_chromium

from .test_checkout_flow import CONTACTS, add, place

Order = get_model("order", "Order")

pytestmark = requires_chromium


def browse(base_url, steps):
    """Run ``steps(page, expect)`` in headless chromium at desktop size; return its result."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(locale="ru-RU", viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            return steps(page, expect)
        finally:
            browser.close()


def put_in_basket(page, base_url, product_url, quantity=1):
    page.goto(base_url + product_url)
    page.locator("#id_quantity").fill(str(quantity))
    page.locator("#add_to_basket_form button[type=submit]").click()
    page.wait_for_load_state()


def fill_contacts(page, email="guest@example.kz"):
    page.locator("#id_guest_email").fill(email)
    page.get_by_label("Имя").fill("Айгерим")
    page.get_by_label("Фамилия").fill("Сапарова")
    page.get_by_label("Телефон").fill("8 701 123 45 67")


def pay_and_confirm(page, expect, method="Наличными при получении"):
    page.locator("#delivery-continue").click()
    page.get_by_label(method).check()
    page.locator("#view_preview").click()
    expect(page.locator("#chosen-payment-method")).to_contain_text(method)
    expect(page.locator("#basket-summary")).to_be_visible()
    page.locator("#place-order").click()
    page.wait_for_url("**/checkout/thank-you/")


@pytest.mark.django_db(transaction=True)
def test_pickup_order_at_the_only_point_that_has_everything(live_server, kettle_and_iron):
    kettle, iron = kettle_and_iron
    urls = kettle.get_absolute_url(), iron.get_absolute_url()

    def steps(page, expect):
        put_in_basket(page, live_server.url, urls[0])
        put_in_basket(page, live_server.url, urls[1])
        page.goto(live_server.url + "/basket/")
        page.get_by_role("link", name="Перейти к оформлению").click()
        expect(page.locator(".checkout-step.active")).to_contain_text("Контакты и доставка")
        expect(page.locator("#basket-summary")).to_contain_text("Утюг Philips")

        page.locator("#id_method_pickup").check()
        expect(page.locator("#courier-address")).to_be_hidden()  # no address for pickup
        abaya = page.locator(".pickup-option", has_text="Пункт на Абая")
        dostyk = page.locator(".pickup-option", has_text="Пункт в ТРЦ Достык")
        expect(abaya).to_contain_text("Есть не всё")
        expect(abaya).to_contain_text("«Утюг Philips»: нет в этом пункте")
        expect(dostyk).to_contain_text("Весь заказ есть в наличии")
        expect(dostyk.locator("input")).to_be_checked()  # the complete point is preselected

        fill_contacts(page)
        pay_and_confirm(page, expect)
        return page.locator("body").inner_text()

    confirmation = browse(live_server.url, steps)

    order = Order.objects.get()
    assert order.pickup_point_code == "wh-dostyk-0002"
    assert order.number in confirmation and "Пункт в ТРЦ Достык" in confirmation
    assert "Наличными при получении" in confirmation
    assert str(order.shipping_address.phone_number) == "+77011234567"


@pytest.mark.django_db(transaction=True)
def test_courier_order(live_server, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    url = kettle.get_absolute_url()

    def steps(page, expect):
        put_in_basket(page, live_server.url, url, 2)
        page.goto(live_server.url + "/checkout/")
        courier = page.locator("#delivery-courier")
        expect(courier).to_contain_text("1\u00a0500\u00a0₸")
        expect(courier).to_contain_text(
            "Бесплатно при заказе от 30\u00a0000\u00a0₸: добавьте товаров ещё на 6\u00a0000\u00a0₸."
        )
        page.locator("#id_method_courier").check()
        expect(page.locator("#pickup-points")).to_be_hidden()
        fill_contacts(page)
        page.locator("#delivery-continue").click()
        # The address is asked for the courier.
        expect(page.locator("#courier-address")).to_contain_text("Укажите город.")
        page.get_by_label("Город").fill("Алматы")
        page.get_by_label("Улица, дом, квартира").fill("ул. Кабанбай батыра, 5, кв. 12")
        pay_and_confirm(page, expect, method="Счёт на оплату")
        return page.locator("body").inner_text()

    confirmation = browse(live_server.url, steps)

    order = Order.objects.get()
    assert order.shipping_code == "courier" and not order.pickup_point_code
    assert order.shipping_address.line1 == "ул. Кабанбай батыра, 5, кв. 12"
    assert "Кабанбай батыра" in confirmation and "Счёт на оплату" in confirmation


@pytest.mark.django_db(transaction=True)
def test_guest_finds_an_order_by_number_and_phone(live_server, kettle_and_iron):
    kettle, _iron = kettle_and_iron
    client = Client()
    add(client, kettle)
    place(client, {**CONTACTS, "guest_email": "g@example.kz", "method_code": "pickup", "pickup_point": "wh-abaya-0001"})
    order = Order.objects.get()
    order.set_status("Подтверждён")

    def steps(page, expect):
        page.goto(live_server.url + "/order-status/")
        expect(page.locator("h1")).to_contain_text("Где мой заказ?")
        page.get_by_label("Номер заказа").fill(order.number)
        page.get_by_label("Email или телефон, указанные в заказе").fill("+7 702 000 00 00")
        page.get_by_role("button", name="Найти заказ").click()
        expect(page.locator(".alert-danger")).to_contain_text("не найден")
        page.get_by_label("Email или телефон, указанные в заказе").fill("8 (701) 123-45-67")
        page.get_by_role("button", name="Найти заказ").click()
        expect(page.locator("#order-status")).to_contain_text("Подтверждён")
        expect(page.locator("#pickup-summary")).to_contain_text("Пункт на Абая")
        return page.locator("body").inner_text()

    text = browse(live_server.url, steps)
    assert f"Заказ № {order.number}" in text and "История статусов" in text
    assert "Наличными при получении" in text
