"""
How the shop hands work to Celery.

Tasks are sent only once the surrounding transaction commits (a task that starts
before the rows it needs exist would find nothing). In the embedded default
(``CELERY_TASK_ALWAYS_EAGER``, no broker) a task runs in a thread of this process
instead, so that an HTTP call that started it still answers at once.
"""

import threading

from django.conf import settings
from django.db import close_old_connections, transaction


def enqueue(task, *args, **kwargs):
    """Send ``task`` with these arguments after the current transaction commits."""

    def send():
        if settings.CELERY_TASK_ALWAYS_EAGER:
            threading.Thread(target=_run_in_thread, args=(task, args, kwargs), daemon=True).start()
        else:
            task.apply_async(args=args, kwargs=kwargs)

    transaction.on_commit(send)


def enqueue_later(task, seconds, *args):
    """Send ``task`` to run ``seconds`` after the current transaction commits (a timer thread when embedded)."""

    def send():
        if settings.CELERY_TASK_ALWAYS_EAGER:
            timer = threading.Timer(seconds, _run_in_thread, args=(task, args, {}))
            timer.daemon = True
            timer.start()
        else:
            task.apply_async(args=args, countdown=seconds)

    transaction.on_commit(send)


def _run_in_thread(task, args, kwargs):
    close_old_connections()
    try:
        task.apply(args=args, kwargs=kwargs)
    finally:
        close_old_connections()
