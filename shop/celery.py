"""The shop's one Celery app. Worker: ``celery -A shop worker``; beat: ``celery -A shop beat``."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def yield_cpu_to_shoppers(**kwargs):
    """
    The worker applies 1C's catalogues, which take a core for minutes; at a lower CPU
    priority (``ONEC_IMPORT_NICENESS``, 10 by default; pool processes inherit it) it
    lets the web processes answer shoppers first when they share a machine, and costs
    nothing when the machine is otherwise idle.
    """
    from django.conf import settings

    niceness = getattr(settings, "ONEC_IMPORT_NICENESS", 0)
    if niceness > 0:
        os.nice(niceness)
