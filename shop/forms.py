"""Form fields the shop's settings page (django-constance) uses."""

from django import forms
from django.utils.translation import gettext_lazy as _


class JSONObjectField(forms.JSONField):
    """A JSON object (a mapping), e.g. ``{"Отгружен": "Отправлен"}``; an empty field is ``{}``."""

    default_error_messages = {"not_object": _("Enter a JSON object, e.g. {\"Shipped\": \"Sent\"}.")}

    def to_python(self, value):
        value = super().to_python(value)
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(self.error_messages["not_object"], code="not_object")
        return value
