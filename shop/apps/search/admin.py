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

    def has_add_permission(self, request):
        # Rows appear with the attributes' values (indexing.ensure_filter_settings).
        return False
