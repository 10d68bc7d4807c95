"""The dashboard's order search, with what a call centre filters by: 1C state, delivery, phone."""

from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.dashboard.orders import forms as oscar_forms

ONEC_STATE_CHOICES = [
    ("", "---------"),
    ("waiting", _("waiting to be sent to 1C")),
    ("sent", _("sent to 1C, not acknowledged yet")),
    ("acknowledged", _("acknowledged by 1C")),
]
DELIVERY_CHOICES = [("", "---------"), ("courier", _("Courier delivery")), ("pickup", _("Pickup"))]


class OrderSearchForm(oscar_forms.OrderSearchForm):
    upc = forms.CharField(required=False, label=_("Article or barcode"))
    partner_sku = forms.CharField(required=False, label=_("Warehouse SKU"))
    phone = forms.CharField(required=False, label=_("Phone"))
    onec_state = forms.ChoiceField(required=False, label=_("1C state"), choices=ONEC_STATE_CHOICES)
    delivery = forms.ChoiceField(required=False, label=_("Delivery"), choices=DELIVERY_CHOICES)
    format_choices = (("html", _("page")), ("csv", _("CSV file")))
    response_format = forms.ChoiceField(
        widget=forms.RadioSelect, required=False, choices=format_choices, initial="html", label=_("Get results as")
    )

    def clean(self):
        data = super().clean()
        # Oscar compares the lines' UPC only; the view looks the identifier up in 1C's
        # article, barcode and code as well (``identifier``).
        data["identifier"] = (data.get("upc") or "").strip()
        data["upc"] = ""
        return data
