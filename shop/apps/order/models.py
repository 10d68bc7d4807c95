"""
Oscar's order, plus the pickup point a «Самовывоз» order is collected at.

The point is a 1C warehouse (``Partner`` with ``is_pickup_point``); its 1C Ид, name,
address and hours are copied onto the order when it is placed, so the order keeps
naming the point the customer chose even if the warehouse is renamed or removed later,
and the document sent to 1C carries the Ид 1C reserves at.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from oscar.apps.order.abstract_models import AbstractOrder


class Order(AbstractOrder):
    pickup_point = models.ForeignKey(
        "partner.Partner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pickup_orders",
        verbose_name=_("Pickup point"),
    )
    pickup_point_code = models.CharField(_("Pickup point 1C id"), max_length=128, blank=True)
    pickup_point_name = models.CharField(_("Pickup point name"), max_length=255, blank=True)
    pickup_point_address = models.CharField(_("Pickup address"), max_length=255, blank=True)
    pickup_point_hours = models.CharField(_("Opening hours"), max_length=255, blank=True)

    class Meta(AbstractOrder.Meta):
        app_label = "order"

    @property
    def is_pickup(self):
        return bool(self.pickup_point_code or self.pickup_point_name)


from oscar.apps.order.models import *  # noqa: E402,F401,F403
