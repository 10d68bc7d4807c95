"""
Every e-mail the shop sends speaks for the shop as the owner set it in the admin: its name
(subject, text, signature), its contacts (the signature), the sender's name, and a
Reply-To of the contact e-mail, even though the Site row still has the old name.
"""

import re

import pytest
from constance import config
from django.contrib.sites.models import Site
from django.core import mail
from django.urls import reverse
from oscar.core.loading import get_class, get_model

from integration_1c.services.notifications import send_status_email

from .test_checkout_flow import CONTACTS, add, place

Order = get_model("order", "Order")
ProductAlert = get_model("customer", "ProductAlert")
CommunicationEventType = get_model("communication", "CommunicationEventType")
AlertsDispatcher = get_class("customer.alerts.utils", "AlertsDispatcher")

pytestmark = pytest.mark.django_db

OWNER_SETTINGS = {
    "SHOP_NAME": "Стройдом",
    "SHOP_PHONE": "+7 727 355-00-11",
    "SHOP_EMAIL": "info@stroydom.kz",
    "SHOP_ADDRESS": "Алматы, пр. Абая, 150",
    "SHOP_HOURS": "Пн–Пт 9:00–19:00",
}


@pytest.fixture
def renamed_shop(settings):
    """The Site and the environment still say «Магазин»; the admin says «Стройдом»."""
    settings.OSCAR_FROM_EMAIL = "shop@example.com"
    settings.OSCAR_SHOP_NAME = settings.SHOP_NAME = "Магазин"
    Site.objects.update_or_create(pk=settings.SITE_ID, defaults={"domain": "shop.example.kz", "name": "Магазин"})
    Site.objects.clear_cache()
    for key, value in OWNER_SETTINGS.items():
        setattr(config, key, value)
    mail.outbox.clear()


def assert_speaks_for_the_shop(email):
    """Name and contacts from the admin in the text, the HTML and the headers; never the old name."""
    parts = {"subject": email.subject, "text": email.body}
    parts.update({f"html {n}": content for n, (content, mimetype) in enumerate(email.alternatives)})
    for name, content in parts.items():
        assert "Магазин" not in content, (name, content)
    for name, content in (("text", email.body), *[(f"html {n}", c) for n, (c, _m) in enumerate(email.alternatives)]):
        assert "С уважением," in content, name
        assert "Стройдом" in content, name
        for contact in ("+7 727 355-00-11", "info@stroydom.kz", "Алматы, пр. Абая, 150", "Пн–Пт 9:00–19:00"):
            assert contact in content, (name, contact)
    for content, _mimetype in email.alternatives:
        assert "text-transform: capitalize" not in content  # «Сбросить Пароль»
    assert email.from_email == "Стройдом <shop@example.com>"
    assert email.reply_to == ["info@stroydom.kz"]
    message = email.message()
    assert message["Reply-To"] == "info@stroydom.kz"
    assert "shop@example.com" in message["From"]


def test_order_placed_email(client, kettle_and_iron, renamed_shop):
    kettle, _iron = kettle_and_iron
    add(client, kettle, 1)
    place(
        client,
        {
            **CONTACTS,
            "guest_email": "guest@example.kz",
            "method_code": "courier",
            "line4": "Алматы",
            "line1": "ул. Кабанбай батыра, 5",
        },
    )

    [email] = mail.outbox
    assert email.subject == f"Заказ № {Order.objects.get().number} принят — Стройдом"
    assert_speaks_for_the_shop(email)
    assert email.body.rstrip().endswith("Часы работы: Пн–Пт 9:00–19:00")
    html = email.alternatives[0][0]
    assert "по адресу: Алматы, ул. Кабанбай батыра, 5" in html


def test_order_status_email(client, kettle_and_iron, renamed_shop):
    kettle, _iron = kettle_and_iron
    add(client, kettle, 1)
    place(client, {**CONTACTS, "guest_email": "guest@example.kz", "method_code": "pickup", "pickup_point": "wh-dostyk-0002"})
    order = Order.objects.get()
    mail.outbox.clear()

    assert send_status_email(order.pk, "Новый", "Подтверждён")

    [email] = mail.outbox
    assert email.subject == f"Заказ № {order.number}: Подтверждён"
    assert_speaks_for_the_shop(email)


def test_registration_email(client, renamed_shop):
    response = client.post(
        reverse("customer:register"),
        {"email": "new@example.kz", "password1": "Dlinnyi-parol-1", "password2": "Dlinnyi-parol-1"},
    )
    assert response.status_code == 302

    [email] = mail.outbox
    assert email.subject == "Спасибо за регистрацию — Стройдом"
    assert "Спасибо за регистрацию в магазине «Стройдом»." in email.body
    assert "http://shop.example.kz/accounts/" in email.body
    assert_speaks_for_the_shop(email)


def test_password_reset_email(client, django_user_model, renamed_shop):
    django_user_model.objects.create_user("buyer", "buyer@example.kz", "Staryi-parol-1")

    response = client.post(reverse("password-reset"), {"email": "buyer@example.kz"})
    assert response.status_code == 302

    [email] = mail.outbox
    assert email.subject == "Сброс пароля в магазине «Стройдом»"
    assert "сброс пароля своей учётной записи в магазине «Стройдом»." in email.body
    assert "аккауна" not in email.body
    assert re.search(r"http://shop\.example\.kz/password-reset/confirm/\S+/", email.body)
    assert_speaks_for_the_shop(email)


def test_password_and_email_changed_emails(client, django_user_model, renamed_shop):
    user = django_user_model.objects.create_user("buyer", "buyer@example.kz", "Staryi-parol-1")
    client.force_login(user)

    client.post(
        reverse("customer:change-password"),
        {"old_password": "Staryi-parol-1", "new_password1": "Novyi-parol-22", "new_password2": "Novyi-parol-22"},
    )
    client.post(reverse("customer:profile-update"), {"first_name": "", "last_name": "", "email": "new@example.kz"})

    password_changed, email_changed = mail.outbox
    assert password_changed.subject == "Ваш пароль на сайте Стройдом изменён."
    assert email_changed.to == ["buyer@example.kz"] and "new@example.kz" in email_changed.body
    for email in (password_changed, email_changed):
        assert_speaks_for_the_shop(email)


def test_product_alert_emails(kettle_and_iron, django_user_model, renamed_shop):
    kettle, _iron = kettle_and_iron
    alert = ProductAlert.objects.create(product=kettle, email="watcher@example.kz", key="k" * 32)

    AlertsDispatcher().send_product_alert_confirmation_email_for_user(alert)
    alert.confirm()
    AlertsDispatcher().send_product_alert_email_for_user(kettle)

    confirmation, back_in_stock = mail.outbox
    assert "«Чайник «Витязь»» снова появится в наличии" in confirmation.body
    assert "Товар «Чайник «Витязь»» снова в наличии: http://shop.example.kz/" in back_in_stock.body
    for email in (confirmation, back_in_stock):
        assert "shop.example.kz Team" not in email.body
        assert_speaks_for_the_shop(email)


def test_dashboard_preview_shows_the_shop_from_the_admin(client, django_user_model, renamed_shop):
    staff = django_user_model.objects.create_superuser("boss", "boss@example.kz", "Parol-boss-1")
    client.force_login(staff)
    event, _created = CommunicationEventType.objects.get_or_create(
        code="PASSWORD_RESET", defaults={"name": "Сброс", "category": CommunicationEventType.USER_RELATED}
    )

    response = client.post(
        reverse("dashboard:comms-update", kwargs={"slug": event.code}),
        {
            "name": event.name,
            "email_subject_template": "Сброс пароля: {{ site.name }}",
            "email_body_template": '{% extends "oscar/communication/emails/base.txt" %}{% block body %}Ссылка{% endblock %}',
            "email_body_html_template": '{% extends "oscar/communication/emails/base.html" %}',
            "show_preview": "1",
        },
    )

    preview = response.context["preview"]
    assert preview["subject"] == "Сброс пароля: Стройдом"
    assert "Стройдом" in preview["body"] and "+7 727 355-00-11" in preview["body"] and "Стройдом" in preview["html"]


def test_sender_without_a_contact_email_has_no_reply_to(client, renamed_shop, settings):
    config.SHOP_EMAIL = ""
    settings.OSCAR_FROM_EMAIL = "Old Name <noreply@stroydom.kz>"

    client.post(
        reverse("customer:register"),
        {"email": "new@example.kz", "password1": "Dlinnyi-parol-1", "password2": "Dlinnyi-parol-1"},
    )

    [email] = mail.outbox
    assert email.from_email == "Стройдом <noreply@stroydom.kz>"
    assert email.reply_to == [] and "Reply-To" not in email.message()
