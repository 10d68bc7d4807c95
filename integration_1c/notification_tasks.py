"""
Celery task that emails customers about their order's status.

Kept apart from ``integration_1c/tasks.py`` (the exchange's tasks); registered because
``integration_1c/receivers.py`` imports it when the app is ready. A mail server that is
down never blocks anything: the email is sent after the status change commits, mail
errors (``SMTPException``, ``OSError``) are retried with exponential back-off, and after
the last attempt a note on the order tells staff the customer was not told.
"""

import logging
from smtplib import SMTPException

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from .services import notifications

logger = logging.getLogger(__name__)

MAIL_ERRORS = (SMTPException, OSError)
MAX_RETRIES = 5
#: Back-off: about 30 s, 1, 2, 4, 8 minutes (with jitter), never more than 30 minutes.
BACKOFF_FACTOR, BACKOFF_MAX = 30, 30 * 60


def retry_delay(retries):
    """Seconds before retry number ``retries + 1``: exponential, jittered, capped."""
    return get_exponential_backoff_interval(BACKOFF_FACTOR, retries, BACKOFF_MAX, full_jitter=True)


@shared_task(
    bind=True,
    name="integration_1c.notification_tasks.send_order_status_email",
    max_retries=MAX_RETRIES,
    acks_late=True,
)
def send_order_status_email(self, order_id, old_status, new_status):
    """
    Email the customer of ``order_id`` that the status went ``old_status`` -> ``new_status``.

    With a broker the retry is scheduled ``retry_delay`` seconds later. Run eagerly (the
    embedded default without a broker, where nothing would pick up a scheduled retry) the
    next attempt runs at once in the same background thread.
    """
    try:
        notifications.send_status_email(order_id, old_status, new_status)
    except MAIL_ERRORS as exc:
        attempt = self.request.retries or 0
        if attempt >= self.max_retries:
            notifications.record_email_failure(order_id, new_status, exc)
            raise
        logger.warning("Status email for order %s failed (attempt %d): %s", order_id, attempt + 1, exc)
        if self.request.is_eager:
            return self.apply(args=(order_id, old_status, new_status), retries=attempt + 1, throw=True).get()
        raise self.retry(exc=exc, countdown=retry_delay(attempt))
