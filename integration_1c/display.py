"""
An order's 1C state in the words a call-centre manager uses («передан в 1С 5 минут назад,
подтверждён», «ждёт отправки в 1С»): one place for the dashboard's order list and page,
and the admin.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from . import conf, selectors


def _ago(moment, now):
    if now - moment < timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(moment, now, depth=1)}


def order_1c_state(order, exchange=None, now=None):
    """``(text, level)``: what 1C knows of ``order``; level is success / warning / secondary."""
    now = now or timezone.now()
    if exchange is None:
        exchange = getattr(order, "onec", None) if hasattr(order, "onec") else None
    from_status = conf.get("ONEC_ORDER_EXPORT_FROM_STATUS")
    if exchange is None or exchange.first_sent_at is None:
        if from_status and order.status not in (selectors.statuses_from(from_status) or {from_status}):
            return _("goes to 1C once it is «%(status)s»") % {"status": from_status}, "secondary"
        return _("waiting to be sent to 1C"), "warning"
    sent = _("sent to 1C %(ago)s") % {"ago": _ago(exchange.last_sent_at or exchange.first_sent_at, now)}
    if not exchange.is_due:
        text = _("%(sent)s, acknowledged") % {"sent": sent}
        level = "success"
    elif exchange.acknowledged_version:
        text = _("changed since 1C acknowledged it, waiting to be sent again")
        level = "warning"
    else:
        text = _("%(sent)s, not acknowledged yet") % {"sent": sent}
        level = "warning"
    if exchange.onec_number:
        text = _("%(text)s; number in 1C %(number)s") % {"text": text, "number": exchange.onec_number}
    return text, level
