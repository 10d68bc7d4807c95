"""
Oscar's partner admin, plus the pickup-point fields: the manager marks which 1C
warehouses customers can collect orders from, with their address, hours and map link.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from oscar.apps.partner.admin import *  # noqa: F401,F403
from oscar.apps.partner.admin import PartnerAdmin as OscarPartnerAdmin
from oscar.core.loading import get_model

Partner = get_model("partner", "Partner")


class PartnerAdmin(OscarPartnerAdmin):
    list_display = ("name", "code", "is_pickup_point", "pickup_address", "pickup_hours", "pickup_position")
    list_editable = ("is_pickup_point", "pickup_position")
    list_filter = ("is_pickup_point",)
    search_fields = ("name", "code", "pickup_address")
    fieldsets = (
        (None, {"fields": ("name", "code", "users")}),
        (
            _("Pickup point"),
            {"fields": ("is_pickup_point", "pickup_address", "pickup_hours", "pickup_map_url", "pickup_position")},
        ),
    )
    filter_horizontal = ("users",)
    #: The 1C Ид: the import keys stock by it, so it is shown, never edited.
    readonly_fields = ("code",)


admin.site.unregister(Partner)
admin.site.register(Partner, PartnerAdmin)
