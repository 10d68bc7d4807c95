"""
Customers hear about status changes: an email in Russian (registered or guest) with
what the status means, tracking details when shipped and a link to the order; an
account notification for registered customers; retries when the mail server fails and a
note for staff when it never recovers.
"""

import io
import re
from smtplib import SMTPException

import pytest
from django.core import mail
from oscar.core.loading import get_model

from integration_1c.notification_tasks import retry_delay, send_order_status_email
from integration_1c.services.notifications import ORDER_STATUS_CHANGED
from integration_1c.services.orders import apply_order_documents

from .mail_backends import FlakyBackend

pytestmark = pytest.mark.django_db

FLAKY = f"{FlakyBackend.__module__}.FlakyBackend"

Notification = get_model("communication", "Notification")
Email = get_model("communication", "Email")
OrderNote = get_model("order", "OrderNote")


def run_queued(queued_emails):
    for task, args in queued_emails:
        task.apply(args=args)
    queued_emails.clear()


def test_registered_customer_gets_an_email_and_a_notification(shop_site, orders, customer, queued_emails):
    order = orders.place(user=customer)

    order.set_status("Подтверждён")

    assert [(task.name, args) for task, args in queued_emails] == [
        ("integration_1c.notification_tasks.send_order_status_email", (order.pk, "Новый", "Подтверждён"))
    ]
    notification = Notification.objects.get(recipient=customer)
    assert order.number in notification.subject and "Подтверждён" in notification.subject
    assert f'href="/accounts/orders/{order.number}/"' in notification.subject
    assert notification.body == "Заказ подтверждён, мы начинаем его собирать."
    assert mail.outbox == []  # nothing is sent inside the status change itself

    run_queued(queued_emails)

    (email,) = mail.outbox
    assert email.to == ["ivan@example.kz"]
    assert email.subject == f"Заказ № {order.number}: Подтверждён"
    assert "Статус вашего заказа № " + order.number + " изменился: «Подтверждён»." in email.body
    assert "Заказ подтверждён, мы начинаем его собирать." in email.body
    assert f"http://shop.example.kz/accounts/orders/{order.number}/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "«Подтверждён»" in html
    assert Email.objects.filter(user=customer, subject=email.subject).exists()
    assert order.communication_events.get().event_type.code == ORDER_STATUS_CHANGED


def test_guest_gets_a_link_to_the_anonymous_order_page(shop_site, orders, queued_emails):
    order = orders.place(guest_email="guest@example.kz")

    order.set_status("Отменён")
    run_queued(queued_emails)

    (email,) = mail.outbox
    assert email.to == ["guest@example.kz"]
    assert "Заказ отменён." in email.body
    link = re.search(r"http://shop\.example\.kz(/accounts/order-status/\S+/)", email.body).group(1)
    assert link == f"/accounts/order-status/{order.number}/{order.verification_hash()}/"
    assert not Notification.objects.exists()


def test_shipped_by_1c_email_has_the_tracking_details(shop_site, orders, customer, queued_emails):
    order = orders.place(user=customer)
    order.set_status("Подтверждён")
    queued_emails.clear()
    mail.outbox.clear()
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.08" '
        'ДатаФормирования="2024-05-02T10:00:00"><Документ>'
        f"<Ид>{order.number}</Ид><Номер>{order.number}</Номер><Дата>2024-05-01</Дата><ЗначенияРеквизитов>"
        "<ЗначениеРеквизита><Наименование>Статус заказа</Наименование><Значение>Отправлен</Значение></ЗначениеРеквизита>"
        "<ЗначениеРеквизита><Наименование>Номер отслеживания</Наименование><Значение>KZ987654321</Значение></ЗначениеРеквизита>"
        "<ЗначениеРеквизита><Наименование>Номер отгрузки по 1С</Наименование><Значение>РТ-5</Значение></ЗначениеРеквизита>"
        "<ЗначениеРеквизита><Наименование>Дата отгрузки по 1С</Наименование><Значение>2024-05-02 12:00:00</Значение></ЗначениеРеквизита>"
        "</ЗначенияРеквизитов></Документ></КоммерческаяИнформация>"
    )

    class Report:
        updated = skipped = created = 0
        warn = staticmethod(lambda message: None)

    apply_order_documents(io.BytesIO(document.encode()), Report())
    run_queued(queued_emails)

    (email,) = mail.outbox
    assert email.subject == f"Заказ № {order.number}: Отправлен"
    assert "Заказ передан в доставку и уже едет к вам." in email.body
    assert "номер для отслеживания: KZ987654321" in email.body
    assert "документ отгрузки: № РТ-5 от 02.05.2024" in email.body


def test_a_failing_mail_server_is_retried(settings, shop_site, orders, customer, queued_emails):
    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures, FlakyBackend.attempts = 1, 0
    order = orders.place(user=customer)
    order.set_status("Подтверждён")

    run_queued(queued_emails)

    assert FlakyBackend.attempts == 2
    assert len(mail.outbox) == 1
    assert not OrderNote.objects.filter(order=order, note_type=OrderNote.ERROR).exists()


def test_after_the_last_retry_staff_see_a_note(settings, shop_site, orders, customer, queued_emails):
    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures, FlakyBackend.attempts = 100, 0
    order = orders.place(user=customer)
    order.set_status("Подтверждён")
    ((task, args),) = queued_emails

    with pytest.raises(SMTPException):
        task.apply(args=args)

    assert FlakyBackend.attempts == 1 + send_order_status_email.max_retries
    note = OrderNote.objects.get(order=order, note_type=OrderNote.ERROR)
    assert note.message.startswith("Письмо клиенту не отправлено")
    assert "Подтверждён" in note.message
    assert mail.outbox == []


def test_retries_back_off_exponentially(monkeypatch):
    monkeypatch.setattr("random.randrange", lambda stop: stop - 1)  # the top of the jitter range
    assert [retry_delay(attempt) for attempt in range(5)] == [30, 60, 120, 240, 480]
    assert retry_delay(20) == 30 * 60  # capped
    assert send_order_status_email.max_retries == 5


def test_with_a_broker_the_retry_is_scheduled_later(
    settings, shop_site, orders, customer, queued_emails, monkeypatch
):
    from celery.exceptions import Retry

    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures, FlakyBackend.attempts = 100, 0
    order = orders.place(user=customer)
    order.set_status("Подтверждён")
    scheduled = []
    monkeypatch.setattr(
        send_order_status_email,
        "retry",
        lambda exc, countdown: scheduled.append((exc, countdown)) or Retry(exc=exc),
    )
    send_order_status_email.push_request(retries=2, is_eager=False)
    try:
        with pytest.raises(Retry):
            send_order_status_email.run(order.pk, "Новый", "Подтверждён")
    finally:
        send_order_status_email.pop_request()

    ((exc, countdown),) = scheduled
    assert isinstance(exc, SMTPException) and 0 <= countdown <= 120
    assert not OrderNote.objects.filter(order=order).exists()  # not the last attempt yet


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_email_after_the_commit(celery_worker, shop_site, orders, customer):
    import time

    order = orders.place(user=customer)
    order.set_status("Подтверждён")

    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [message.subject for message in mail.outbox] == [f"Заказ № {order.number}: Подтверждён"]
