"""
Celery task that emails customers about their order's status.

Kept apart from ``integration_1c/tasks.py`` (the exchange's tasks); registered because
``integration_1c/receivers.py`` imports it when the app is ready. A mail server that is
down never blocks anything: the task retries with exponential back-off, and after the
last attempt :meth:`StatusEmailTask.on_failure` leaves a note on the order for staff.
"""

from smtplib import SMTPException

from celery import Task, shared_task

from .services import notifications


class StatusEmailTask(Task):
    """Records the final failure of a status email on the order (and in the log)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        order_id, _old_status, new_status = (list(args) + [None, None, None])[:3]
        notifications.record_email_failure(order_id, new_status, exc)
        super().on_failure(exc, task_id, args, kwargs, einfo)


@shared_task(
    base=StatusEmailTask,
    name="integration_1c.notification_tasks.send_order_status_email",
    autoretry_for=(SMTPException, OSError),
    max_retries=5,
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    acks_late=True,
)
def send_order_status_email(order_id, old_status, new_status):
    """Email the customer of ``order_id`` that the status went ``old_status`` -> ``new_status``."""
    notifications.send_status_email(order_id, old_status, new_status)
