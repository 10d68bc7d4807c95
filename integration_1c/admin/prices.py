"""
Admin: 1C price types and prices.

Price types and prices come from 1C (ПакетПредложений): managers look, 1C writes, so they
are read-only here. Which customer group pays which price type is the shop's own
setting (``CustomerGroupPriceType``), edited here and on each price type's page.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from integration_1c import conf
from integration_1c.models import CustomerGroupPriceType, PriceType, ProductPrice


def _matches(price_type, setting):
    value = (conf.get(setting) or "").strip()
    return bool(value) and (price_type.code == value or price_type.name.casefold() == value.casefold())


class ReadOnlyFrom1CMixin:
    """Rows 1C owns: visible, never added or edited by hand (the next exchange would undo it)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CustomerGroupPriceTypeInline(admin.TabularInline):
    model = CustomerGroupPriceType
    extra = 0
    fields = ("group", "priority")
    autocomplete_fields = ("group",)


@admin.register(PriceType)
class PriceTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "currency", "role", "date_updated")
    search_fields = ("name", "code")
    readonly_fields = ("code", "name", "currency", "role", "date_updated")
    fields = readonly_fields
    inlines = [CustomerGroupPriceTypeInline]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Role in the shop"))
    def role(self, obj):
        if _matches(obj, "ONEC_PRICE_TYPE"):
            return _("Selling price (ONEC_PRICE_TYPE)")
        if _matches(obj, "ONEC_OLD_PRICE_TYPE"):
            return _("Old price, crossed out (ONEC_OLD_PRICE_TYPE)")
        return "—"


@admin.register(ProductPrice)
class ProductPriceAdmin(ReadOnlyFrom1CMixin, admin.ModelAdmin):
    list_display = ("product", "product_code", "price_type", "price", "currency", "date_updated")
    list_filter = ("price_type",)
    search_fields = ("product__title", "product__code", "product__upc")
    list_select_related = ("product", "price_type")
    raw_id_fields = ("product",)
    show_full_result_count = False

    @admin.display(description=_("1C id"), ordering="product__code")
    def product_code(self, obj):
        return obj.product.code


@admin.register(CustomerGroupPriceType)
class CustomerGroupPriceTypeAdmin(admin.ModelAdmin):
    list_display = ("group", "price_type", "priority")
    list_editable = ("priority",)
    list_select_related = ("group", "price_type")
    autocomplete_fields = ("group",)
