"""
Template helpers for the customer's order pages: what a status means, the status
history with dates, and the shipment details 1C reported.

``{% load onec_orders %}``
"""

from django import template

from .. import selectors
from ..services.notifications import status_explanation as explain

register = template.Library()


@register.filter
def status_explanation(status):
    """The sentence telling the customer what ``status`` means for them."""
    return explain(status) if status else ""


@register.simple_tag
def order_status_history(order):
    """
    The order's statuses, oldest first, as ``{"status", "date"}``: the status it was
    placed with, then every change (Oscar's ``OrderStatusChange``).
    """
    changes = sorted(order.status_changes.all(), key=lambda change: (change.date_created, change.pk))
    first_status = changes[0].old_status if changes else order.status
    history = [{"status": first_status, "date": order.date_placed}] if first_status else []
    history.extend({"status": change.new_status, "date": change.date_created} for change in changes)
    return history


@register.simple_tag
def order_shipment(order):
    """The order's 1C state (tracking number, shipment) or None."""
    return selectors.order_exchange(order)
