from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .payment import PAYMENT_METHODS


def payment_method_choices():
    """Built when the form renders, so that labels are in the language of the page."""
    return [
        (method.code, format_html("<strong>{}</strong><br><small>{}</small>", method.label, method.description))
        for method in PAYMENT_METHODS
    ]


class PaymentMethodForm(forms.Form):
    """The payment step: one of the shop's payment methods (``payment.PAYMENT_METHODS``)."""

    payment_method = forms.ChoiceField(
        label=_("Payment method"),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        choices=payment_method_choices,
        error_messages={"required": _("Please choose a payment method.")},
    )
