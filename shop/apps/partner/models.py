"""
The shop's partners are 1C's warehouses (``code`` = the warehouse Ид) plus the sales
partner (see :mod:`shop.apps.partner.strategy`). A manager marks some warehouses as
pickup points in the admin and gives each the address, opening hours and map link a
shopper needs: 1C sends none of these, and which warehouses serve customers is the
shop's decision, so the import never touches these fields.
"""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oscar.apps.partner.abstract_models import AbstractPartner, AbstractStockRecord


class PickupPointQuerySet(models.QuerySet):
    def pickup_points(self):
        """Warehouses shoppers can collect orders from, in the order the manager set."""
        return self.filter(is_pickup_point=True).order_by("pickup_position", "name", "code")


class Partner(AbstractPartner):
    is_pickup_point = models.BooleanField(
        _("Pickup point"),
        default=False,
        db_index=True,
        help_text=_("Customers can collect orders at this warehouse."),
    )
    pickup_address = models.CharField(_("Pickup address"), max_length=255, blank=True)
    pickup_hours = models.CharField(
        _("Opening hours"), max_length=255, blank=True, help_text=_("For example: Mon–Fri 10:00–20:00")
    )
    pickup_map_url = models.URLField(
        _("Map link"), max_length=500, blank=True, help_text=_("A link to the point on 2GIS, Yandex or Google maps.")
    )
    pickup_position = models.PositiveSmallIntegerField(
        _("Position in the list"), default=0, help_text=_("Points with a smaller number are listed first.")
    )

    objects = PickupPointQuerySet.as_manager()

    class Meta(AbstractPartner.Meta):
        app_label = "partner"


class StockRecord(AbstractStockRecord):
    """
    Oscar's stock record without an index on ``date_updated``: every stock write changes
    that column, so with the index no update of a record could stay on its page (a HOT
    update), and each one wrote a new entry into all five indexes of a half-million-row
    table — half of what a 1C package of changes spent writing stock. Nothing looks
    records up by that date any more: the import tells the listing refresh which products'
    stock it wrote (``integration_1c.services.stock.recording_writes``). The table keeps
    a tenth of every page free for such updates (migration 0009, PostgreSQL).
    """

    date_updated = models.DateTimeField(_("Date updated"), auto_now=True)
    #: Not indexed alone: the unique (partner, partner_sku) index starts with the partner,
    #: and each of the half-million records of a 100,000-product catalogue paid for both.
    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.CASCADE,
        verbose_name=_("Partner"),
        related_name="stockrecords",
        db_index=False,
    )

    def __str__(self):
        """Oscar's «Partner: …, product: …» is not translatable; the admin shows it in every stock field."""
        text = gettext("%(product)s — %(partner)s") % {
            "product": self.product,
            "partner": self.partner.display_name,
        }
        return f"{text} ({self.partner_sku})" if self.partner_sku else text

    class Meta(AbstractStockRecord.Meta):
        app_label = "partner"
        indexes = [
            # Only records a manager gave a low-stock threshold (1C sends none): the
            # import asks once a file whether there are any before it keeps Oscar's
            # stock alerts (``integration_1c.services.stock.alerts_possible``).
            models.Index(
                fields=["low_stock_threshold"],
                condition=models.Q(low_stock_threshold__isnull=False),
                name="partner_stock_threshold_set",
            ),
        ]


from oscar.apps.partner.models import *  # noqa: E402,F401,F403
