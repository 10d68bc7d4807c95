"""
Telling customers that their order's status changed — whether a manager changed it in
the dashboard or 1C did.

The receiver of Oscar's ``order_status_changed`` (``integration_1c/receivers.py``) calls
:func:`order_status_changed`: registered customers get an Oscar notification in their
account at once (a database row, part of the same transaction), and an email is queued
for after the commit (:mod:`integration_1c.notification_tasks`), so a slow or broken
mail server never holds up a status change. The email is rendered by Oscar's
``Dispatcher`` from the ``ORDER_STATUS_CHANGED`` communication event type, which staff
can edit in the dashboard (templates under
``templates/oscar/communication/emails/commtype_order_status_changed_*``); the
dispatcher adds the shop's name and contacts from the admin (``shop.apps.communication``).
"""

import logging

from django.conf import settings
from django.contrib.sites.models import Site
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from oscar.core.loading import get_class, get_model

from shop.background import enqueue

from .. import selectors

logger = logging.getLogger(__name__)

Dispatcher = get_class("communication.utils", "Dispatcher")
CommunicationEventType = get_model("communication", "CommunicationEventType")
CommunicationEvent = get_model("order", "CommunicationEvent")
Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")

ORDER_STATUS_CHANGED = "ORDER_STATUS_CHANGED"
ORDER_STATUS_CHANGED_NAME = "Изменение статуса заказа"

#: What each status means for the customer, by normalised status name (see
#: ``selectors.normalize_status``). A shop with other statuses gets the generic sentence.
STATUS_EXPLANATIONS = {
    "новый": "Мы получили ваш заказ и скоро свяжемся с вами, чтобы его подтвердить.",
    "подтвержден": "Заказ подтверждён, мы начинаем его собирать.",
    "собирается": "Мы собираем ваш заказ на складе.",
    "отправлен": "Заказ передан в доставку и уже едет к вам.",
    "готов к выдаче": "Заказ ждёт вас в пункте выдачи — приходите за ним в часы работы магазина.",
    "доставлен": "Заказ доставлен. Спасибо за покупку!",
    "отменен": "Заказ отменён. Если вы его не отменяли или у вас есть вопросы — ответьте на это письмо.",
}
GENERIC_EXPLANATION = "Статус вашего заказа изменился."


def status_explanation(status):
    """A short sentence telling the customer what ``status`` means for them."""
    return STATUS_EXPLANATIONS.get(selectors.normalize_status(status), GENERIC_EXPLANATION)


def status_path(order):
    """
    Where the customer sees the order: the account page for a registered customer,
    Oscar's anonymous order page (with the verification hash) for a guest.
    """
    try:
        if order.user_id:
            return reverse("customer:order", kwargs={"order_number": order.number})
        return reverse(
            "customer:anon-order", kwargs={"order_number": order.number, "hash": order.verification_hash()}
        )
    except NoReverseMatch:
        return ""


def absolute_url(path, site=None):
    if not path:
        return ""
    site = site or Site.objects.get_current()
    return f"{getattr(settings, 'OSCAR_URL_SCHEMA', 'https')}://{site.domain}{path}"


def tracking_details(order):
    """Shipment details 1C reported, for the email: tracking number, shipment number and date."""
    exchange = selectors.order_exchange(order)
    if exchange is None:
        return {}
    return {
        "tracking_number": exchange.tracking_number,
        "shipment_number": exchange.shipment_number,
        "shipped_at": exchange.shipped_at,
    }


def message_context(order, old_status, new_status):
    site = Site.objects.get_current()
    path = status_path(order)
    tracking = tracking_details(order)
    return {
        "order": order,
        "old_status": old_status,
        "new_status": new_status,
        "explanation": status_explanation(new_status),
        "status_path": path,
        "status_url": absolute_url(path, site),
        **tracking,
    }


def order_status_changed(order, old_status, new_status):
    """Receiver's work: the account notification now, the email after the commit."""
    notify_in_account(order, new_status)
    from ..notification_tasks import send_order_status_email

    enqueue(send_order_status_email, order.pk, old_status, new_status)


def notify_in_account(order, new_status):
    """An Oscar notification (account › Notifications) for a registered customer."""
    if not order.user_id:
        return None
    url = status_path(order)
    number = escape(order.number)
    link = f'<a href="{escape(url)}">№ {number}</a>' if url else f"№ {number}"
    return Dispatcher().notify_user(
        order.user,
        subject=f"Заказ {link}: {escape(new_status)}",
        body=status_explanation(new_status),
    )


def event_type():
    """The ORDER_STATUS_CHANGED communication event type, created on first use."""
    event, _created = CommunicationEventType.objects.get_or_create(
        code=ORDER_STATUS_CHANGED,
        defaults={"name": ORDER_STATUS_CHANGED_NAME, "category": CommunicationEventType.ORDER_RELATED},
    )
    return event


def send_status_email(order_id, old_status, new_status):
    """
    Email the customer (the account's address, or the guest's) about the new status.
    Mail errors (``SMTPException``, ``OSError``) propagate: the task retries them.
    Returns False when there is nobody to write to.
    """
    order = Order.objects.select_related("user").filter(pk=order_id).first()
    if order is None:
        logger.warning("Order %s is gone; status email not sent", order_id)
        return False
    messages = Dispatcher(logger=logger).get_messages(
        ORDER_STATUS_CHANGED, message_context(order, old_status, new_status)
    )
    dispatcher = Dispatcher(logger=logger)
    if order.user is not None and order.user.email:
        dispatched = dispatcher.dispatch_user_messages(order.user, messages)
    elif order.email:
        dispatched = dispatcher.dispatch_anonymous_messages(order.email, messages)
    else:
        logger.warning("Order %s has no email address; status email not sent", order.number)
        return False
    if dispatched:
        CommunicationEvent.objects.create(order=order, event_type=event_type())
    return True


def record_email_failure(order_id, new_status, exc):
    """After the last retry: a note on the order, so staff see the customer was not told."""
    logger.error("Status email for order %s (%s) not sent: %s", order_id, new_status, exc)
    order = Order.objects.filter(pk=order_id).first()
    if order is not None:
        OrderNote.objects.create(
            order=order,
            note_type=OrderNote.ERROR,
            message=f"Письмо клиенту не отправлено: статус «{new_status}», ошибка: {exc}",
        )
