"""Which product attributes are filters on listing pages (one row per 1C property or characteristic)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import FilterSetting


@admin.register(FilterSetting)
class FilterSettingAdmin(admin.ModelAdmin):
    list_display = ("attribute_name", "attribute_type", "is_filterable", "position")
    list_editable = ("is_filterable", "position")
    list_filter = ("is_filterable", "attribute__type")
    search_fields = ("attribute__name", "attribute__code")
    list_select_related = ("attribute",)
    fields = ("attribute", "is_filterable", "position")
    readonly_fields = ("attribute",)

    @admin.display(description=_("Attribute"), ordering="attribute__name")
    def attribute_name(self, obj):
        return obj.attribute.name

    @admin.display(description=_("Type"), ordering="attribute__type")
    def attribute_type(self, obj):
        return obj.attribute.get_type_display()

    def save_model(self, request, obj, form, change):
        refreshes = obj.changes_listing_values()
        super().save_model(request, obj, form, change)
        if refreshes:
            # The rows of the property's products are refreshed in the background (receivers.filter_setting_saved).
            self.message_user(
                request,
                _("The values of «%(name)s» are being added to or removed from the product listings: the filter changes within a few minutes.")
                % {"name": obj.attribute.name},
            )

    def has_add_permission(self, request):
        # Rows appear with the attributes' values (indexing.ensure_filter_settings).
        return False
