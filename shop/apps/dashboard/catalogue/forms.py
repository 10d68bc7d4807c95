"""
The dashboard's product search: one box for what a manager has at hand — an article, a
barcode, a 1C code (Ид) or a UPC — besides the title.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.dashboard.catalogue import forms as oscar_forms


class ProductSearchForm(oscar_forms.ProductSearchForm):
    upc = forms.CharField(
        max_length=255,
        required=False,
        label=_("Article, barcode or 1C code"),
        help_text=_("The article (SKU), barcode, 1C code or UPC of a product or one of its variants."),
    )
    title = forms.CharField(max_length=255, required=False, label=_("Product title"))
    #: The journal's links: the products one 1C file created, updated or hid.
    onec_file = forms.IntegerField(required=False, widget=forms.HiddenInput)
    onec_change = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[("", ""), ("created", "created"), ("updated", "updated"), ("hidden", "hidden")],
    )
