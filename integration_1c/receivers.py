"""
Signal receivers of the 1C exchange (wired in apps.py ``ready()``).

Orders: a placed order is registered for 1C at version 1; every change made on the site
that 1C should hear about — status, line status and contents, shipping and payment
events, payment sources, addresses — bumps its version so the next ``mode=query`` sends it again (changes that
came from 1C do not: see ``services.orders.changes_from_1c``). A status change, from
wherever it came, is also told to the customer (``services.notifications``), and a
cancellation releases the order's reservations at once (``services.stock``).

Oscar sends ``order_status_changed`` with the order INSTANCE as sender, so these
receivers connect without a sender filter.
"""

from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver
from oscar.apps.order.signals import order_line_status_changed, order_placed, order_status_changed
from oscar.core.loading import get_model

from . import notification_tasks  # noqa: F401  (registers the email task with Celery)
from .services import notifications
from .services import orders as order_services
from .services import stock as stock_services

Line = get_model("order", "Line")
ShippingEvent = get_model("order", "ShippingEvent")
PaymentEvent = get_model("order", "PaymentEvent")
ShippingAddress = get_model("order", "ShippingAddress")
BillingAddress = get_model("order", "BillingAddress")
Order = get_model("order", "Order")
Source = get_model("payment", "Source")


@receiver(order_placed, dispatch_uid="integration_1c.order_placed")
def register_order_for_1c(sender, order, **kwargs):
    order_services.register_placed_order(order)


@receiver(order_status_changed, dispatch_uid="integration_1c.order_status_changed")
def order_status_changed_on_site(sender, order, old_status, new_status, **kwargs):
    order_services.bump_versions([order.pk])
    stock_services.order_status_changed(order, old_status, new_status)
    notifications.order_status_changed(order, old_status, new_status)


@receiver(order_line_status_changed, dispatch_uid="integration_1c.order_line_status_changed")
def line_status_changed(sender, line, **kwargs):
    order_services.bump_versions([line.order_id])


def _bump_for_order_child(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    order_services.bump_versions([instance.order_id])


#: What 1C reads from a line. Saves that change only its status (Oscar's status cascade,
#: already counted by the status signals) or its stock allocation do not concern 1C.
LINE_FIELDS_FOR_1C = (
    "product_id",
    "title",
    "quantity",
    "partner_sku",
    "line_price_incl_tax",
    "line_price_before_discounts_incl_tax",
    "unit_price_incl_tax",
)


def _remember_line(sender, instance, **kwargs):
    instance._onec_loaded = tuple(instance.__dict__.get(name) for name in LINE_FIELDS_FOR_1C)


def _bump_for_line(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    current = tuple(instance.__dict__.get(name) for name in LINE_FIELDS_FOR_1C)
    if created or current != getattr(instance, "_onec_loaded", None):
        order_services.bump_versions([instance.order_id])
    instance._onec_loaded = current


def _bump_for_address(sender, instance, **kwargs):
    if kwargs.get("raw") or kwargs.get("created"):
        return  # a new address has no order yet
    field = "shipping_address" if sender is ShippingAddress else "billing_address"
    order_services.bump_versions(list(Order.objects.filter(**{field: instance}).values_list("pk", flat=True)))


for _model in (ShippingEvent, PaymentEvent, Source):
    post_save.connect(
        _bump_for_order_child, sender=_model, dispatch_uid=f"integration_1c.bump.{_model.__name__}"
    )
post_init.connect(_remember_line, sender=Line, dispatch_uid="integration_1c.line.init")
post_save.connect(_bump_for_line, sender=Line, dispatch_uid="integration_1c.bump.Line")
post_delete.connect(_bump_for_order_child, sender=Line, dispatch_uid="integration_1c.bump.Line.delete")
for _model in (ShippingAddress, BillingAddress):
    post_save.connect(_bump_for_address, sender=_model, dispatch_uid=f"integration_1c.bump.{_model.__name__}")
