"""
In a real browser (Debian's chromium through Playwright): 1C changes an order over the
real exchange URL of a live server, and the customer, logged in, sees in their account
the status 1C set, with its meaning, the tracking number and the history.
"""

import pytest
from django.contrib.auth.models import Permission

from tests.conftest import launch_chromium as launch
from tests.conftest import requires_chromium

from .test_order_exchange_http import onec_document

PASSWORD = "Obmen-1c-parol"
CUSTOMER_PASSWORD = "Pokupatel-2024"

pytestmark = requires_chromium


@pytest.mark.django_db(transaction=True)
def test_customer_sees_the_status_1c_set(live_server, settings, tmp_path, orders, django_user_model):
    from playwright.sync_api import expect, sync_playwright

    from integration_1c.testing.emulator import HttpTransport, OneCClient

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    customer = django_user_model.objects.create_user("ivan", "ivan@example.kz", CUSTOMER_PASSWORD)
    onec = django_user_model.objects.create_user("obmen", "obmen@example.kz", PASSWORD)
    onec.user_permissions.add(
        Permission.objects.get(codename="exchange_1c", content_type__app_label="integration_1c")
    )
    order = orders.place(user=customer)

    # 1C's exchange over HTTP, before Playwright starts (Django refuses ORM calls in its event loop).
    client = OneCClient(HttpTransport(live_server.url), "obmen", PASSWORD, version="2.08", poll_interval=0.1)
    assert order.number.encode() in bytes(client.query())
    client.success()
    document = tmp_path / "documents.xml"
    document.write_bytes(onec_document(order, "Отправлен", "KZ555000111"))
    assert client.send_documents(document).ok

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(locale="ru-RU")
            page.set_default_timeout(15_000)
            page.goto(live_server.url + "/accounts/login/")
            page.fill("#id_login-username", "ivan@example.kz")
            page.fill("#id_login-password", CUSTOMER_PASSWORD)
            page.click("button[name=login_submit]")
            page.wait_for_url("**/accounts/**")

            page.goto(live_server.url + "/accounts/orders/")
            row = page.locator("tr", has_text=order.number)
            expect(row.locator(".order-status-current")).to_contain_text("Отправлен")

            row.locator(f"a:has-text('{order.number}')").click()
            expect(page.locator("#order-status .order-status-current")).to_have_text("Отправлен")
            expect(page.locator(".order-status-explanation")).to_have_text(
                "Заказ передан в доставку и уже едет к вам."
            )
            expect(page.locator(".order-shipment")).to_contain_text("KZ555000111")
            history = page.locator(".order-status-history tbody tr td:nth-child(2)")
            expect(history).to_have_text(["Новый", "Отправлен"])
        finally:
            browser.close()
