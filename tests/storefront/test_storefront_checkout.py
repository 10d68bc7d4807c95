"""
Checkout end to end through Oscar's views, without a payment provider: guest and
registered customers, both payment methods, both shipping methods.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from oscar.core.loading import get_model

from shop.management.commands import setup_shop

from .factories import PartnerFactory, ProductFactory

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db

PICKUP_POINT_CODE = "b1f3c1e2-0000-4000-8000-000000000001"  # the factories' warehouse

ADDRESS = {
    "first_name": "Айгерим",
    "last_name": "Сапарова",
    "line1": "пр. Абая, 10, кв. 5",
    "line4": "Алматы",
    "postcode": "050000",
    "phone_number": "+77011234567",
    "notes": "Позвонить за час",
}


@pytest.fixture(autouse=True)
def shop(settings):
    """What ``setup_shop`` creates for checkout: the sales partner, Kazakhstan as the one shipping country."""
    settings.SHOP_DELIVERY_CHARGE = "1500"
    settings.SHOP_FREE_DELIVERY_FROM = "30000"
    setup_shop.setup_sales_partner()
    setup_shop.setup_countries()
    PartnerFactory(
        code=PICKUP_POINT_CODE, name="Склад на Абая", is_pickup_point=True, pickup_address="Алматы, пр. Абая, 1"
    )


def follow_checkout(client, product, *, quantity=1, shipping, payment, guest_email=None):
    """Go through the three checkout steps as a browser would; return the thank-you page."""
    response = client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": quantity})
    assert response.status_code == 302

    page = client.get(reverse("checkout:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="country"' not in html  # one shipping country: not asked
    assert "Курьерская доставка" in html
    assert ('name="guest_email"' in html) == bool(guest_email)
    data = {"method_code": shipping, **{k: v for k, v in ADDRESS.items()}}
    if guest_email:
        data["guest_email"] = guest_email
    if shipping == "pickup":
        data["pickup_point"] = PICKUP_POINT_CODE
        data.pop("line1"), data.pop("line4"), data.pop("postcode")
    response = client.post(reverse("checkout:index"), data)
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("checkout:payment-details")

    page = client.get(reverse("checkout:payment-details")).content.decode()
    assert "Наличными при получении" in page and "Счёт на оплату" in page

    response = client.post(reverse("checkout:preview"), {"payment_method": payment})
    assert response["Location"] == reverse("checkout:preview")
    preview = client.get(reverse("checkout:preview"))
    assert preview.status_code == 200

    response = client.post(reverse("checkout:preview"), {"action": "place_order"})
    assert response.status_code == 302 and response["Location"] == reverse("checkout:thank-you"), (
        response.context and response.context.get("error")
    )
    thank_you = client.get(reverse("checkout:thank-you"))
    assert thank_you.status_code == 200
    return thank_you.content.decode()


@pytest.mark.parametrize(
    "shipping, payment, price, shipping_charge, payment_name",
    [
        ("courier", "cash-on-delivery", Decimal("12000.00"), Decimal("1500.00"), "Наличными при получении"),
        ("courier", "bank-invoice", Decimal("31000.00"), Decimal("0.00"), "Счёт на оплату"),
        ("pickup", "bank-invoice", Decimal("12000.00"), Decimal("0.00"), "Счёт на оплату"),
        ("pickup", "cash-on-delivery", Decimal("12000.00"), Decimal("0.00"), "Наличными при получении"),
    ],
)
def test_guest_checkout(client, shipping, payment, price, shipping_charge, payment_name):
    product = ProductFactory(title="Дрель ударная", stock=(price, 5))

    page = follow_checkout(client, product, shipping=shipping, payment=payment, guest_email="guest@example.kz")

    order = Order.objects.get()
    assert order.number in page and payment_name in page
    assert order.user is None and order.guest_email == "guest@example.kz"
    assert order.shipping_code == shipping
    assert order.shipping_incl_tax == shipping_charge
    assert order.total_incl_tax == price + shipping_charge
    assert order.status == "Новый"
    assert order.shipping_address.country.iso_3166_1_a2 == "KZ"
    assert str(order.shipping_address.phone_number) == "+77011234567"
    if shipping == "pickup":
        assert order.pickup_point_code == PICKUP_POINT_CODE and order.pickup_point_name == "Склад на Абая"
        assert "Склад на Абая" in page and "пр. Абая, 1" in page
    else:
        assert order.shipping_address.line4 == "Алматы" and not order.pickup_point_code
        assert "пр. Абая, 10, кв. 5" in page
    [line] = order.lines.all()
    assert line.product == product and line.quantity == 1

    [source] = order.sources.all()
    assert source.source_type.name == payment_name
    assert source.amount_allocated == order.total_incl_tax
    assert source.amount_debited == 0  # no money moved


def test_registered_checkout_and_order_history(client):
    user = get_user_model().objects.create_user("buyer", "buyer@example.kz", "secret-pass-123")
    client.force_login(user)
    product = ProductFactory(title="Перфоратор", stock=(Decimal("20000.00"), 3))

    follow_checkout(client, product, quantity=2, shipping="courier", payment="bank-invoice")

    order = Order.objects.get()
    assert order.user == user and order.email == "buyer@example.kz"
    assert order.total_incl_tax == Decimal("40000.00")  # 2 × 20000 from 30000 on: free delivery
    assert order.sources.get().source_type.name == "Счёт на оплату"
    history = client.get(reverse("customer:order-list")).content.decode()
    assert order.number in history


def test_payment_method_is_required(client):
    product = ProductFactory(stock=(Decimal("100.00"), 5))
    client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    response = client.post(
        reverse("checkout:index"),
        {**ADDRESS, "guest_email": "guest@example.kz", "method_code": "pickup", "pickup_point": PICKUP_POINT_CODE},
    )
    assert response["Location"] == reverse("checkout:payment-details")

    # Preview without a chosen method goes back to the payment step.
    assert client.get(reverse("checkout:preview"))["Location"] == reverse("checkout:payment-details")
    response = client.post(reverse("checkout:preview"), {"payment_method": "bitcoin"})
    assert response.status_code == 200 and "payment_method_form" in response.context
    assert response.context["payment_method_form"].errors
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})
    assert response["Location"] == reverse("checkout:payment-details")
    assert not Order.objects.exists()


def test_courier_address_marked_required_and_payment_step_needs_no_browser_validation(client):
    import re

    product = ProductFactory(stock=(Decimal("100.00"), 5))
    client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    html = client.get(reverse("checkout:index")).content.decode()
    # «Город» and «Улица, дом, квартира» are required for the courier: the labels say so.
    for name in ("line4", "line1"):
        star = r' <span class="text-danger" aria-hidden="true">\*</span>'
        assert re.search(rf'<label for="id_{name}">[^<]+{star}', html)
    assert not re.search(r'<label for="id_postcode">[^<]+ <span class="text-danger"', html)

    client.post(
        reverse("checkout:index"),
        {**ADDRESS, "guest_email": "guest@example.kz", "method_code": "pickup", "pickup_point": PICKUP_POINT_CODE},
    )
    html = client.get(reverse("checkout:payment-details")).content.decode()
    start = html.index('id="payment_method_form"')
    form = html[start - 200 : html.index("</form>", start)]
    # The first method is chosen, and the shop's own message (not the browser's) says when none is.
    assert re.search(r'<input[^>]*value="cash-on-delivery"[^>]*checked', form)
    assert re.search(r'<form[^>]*id="payment_method_form"[^>]*novalidate', form)
    assert client.post(reverse("checkout:preview"), {"payment_method": "cash-on-delivery"}).status_code == 302
    response = client.post(reverse("checkout:preview"), {})
    assert "Выберите способ оплаты" in response.content.decode()


def test_placed_orders_show_in_dashboard_and_admin(client):
    product = ProductFactory(stock=(Decimal("5000.00"), 5))
    follow_checkout(client, product, shipping="pickup", payment="cash-on-delivery", guest_email="g@example.kz")
    order = Order.objects.get()

    staff = get_user_model().objects.create_superuser("boss", "boss@example.kz", "secret-pass-123")
    client.force_login(staff)
    assert order.number in client.get(reverse("dashboard:order-list")).content.decode()
    detail = client.get(reverse("dashboard:order-detail", kwargs={"number": order.number})).content.decode()
    assert "Наличными при получении" in detail
    assert order.number in client.get(reverse("admin:order_order_changelist")).content.decode()
