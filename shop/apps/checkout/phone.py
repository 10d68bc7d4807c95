"""
Customers' phone numbers, checked with ``phonenumbers`` (Google's libphonenumber) and kept
in one international form, E.164 (``+77011234567``): the form 1C, SMS gateways and the
order search all match on. A number typed the local way (``8 701 123 45 67``,
``701 123 4567``) is read as one of ``PHONENUMBER_DEFAULT_REGION`` (``SHOP_PHONE_REGION``,
Kazakhstan by default); a number with ``+`` and a country code is read as written.
"""

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


def default_region():
    return getattr(settings, "PHONENUMBER_DEFAULT_REGION", None) or "KZ"


def parse_phone(value, region=None):
    """The valid ``phonenumbers.PhoneNumber`` ``value`` stands for, or None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, region or default_region())
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def to_e164(value, region=None):
    """``value`` as E.164 (``+77011234567``), or "" when it is not a valid phone number."""
    number = parse_phone(value, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else ""


class PhoneField(forms.CharField):
    """A required phone number; cleans to its E.164 string."""

    default_error_messages = {
        "invalid": _("Enter a phone number we can call, e.g. +7 701 123 45 67 or 8 701 123 45 67."),
        "required": _("Enter your phone number: we call or text about the order."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("label", _("Phone"))
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"type": "tel", "autocomplete": "tel", "inputmode": "tel", "placeholder": "+7 7__ ___ __ __"})
        return attrs

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        e164 = to_e164(value)
        if not e164:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return e164
