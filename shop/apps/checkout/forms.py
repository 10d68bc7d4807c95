from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from .payment import PAYMENT_METHODS
from .phone import PhoneField

Country = get_model("address", "Country")


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


class DeliveryForm(forms.Form):
    """
    Step 1 of the checkout, «Контакты и доставка»: who the customer is (name, phone, and
    the email of a guest), how the order travels (courier or pickup) and then only what
    that way needs — the address for the courier, a pickup point for pickup.

    ``methods`` are the shipping methods on offer, ``pickup_options`` the pickup points
    (:class:`shop.apps.shipping.pickup.PickupOption`), ``countries`` the shipping
    countries (asked only when there are several).
    """

    guest_email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your email: the order confirmation goes there.")},
    )
    first_name = forms.CharField(
        label=_("First name"), max_length=255, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=255, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    phone_number = PhoneField()
    method_code = forms.ChoiceField(
        label=_("Delivery"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how you want to receive the order.")},
    )
    pickup_point = forms.ChoiceField(label=_("Pickup point"), required=False, widget=forms.RadioSelect)
    line4 = forms.CharField(
        label=_("City"), max_length=255, required=False, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    line1 = forms.CharField(
        label=_("Street, house, flat"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label=_("Postcode"), max_length=64, required=False, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
    )
    country = forms.ModelChoiceField(label=_("Country"), queryset=Country.objects.none(), required=False)
    notes = forms.CharField(
        label=_("Comment on the order"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, methods=(), pickup_options=(), countries=(), ask_email=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.methods = {str(method.code): method for method in methods}
        self.pickup_options = list(pickup_options)
        self.fields["method_code"].choices = [(code, str(m.name)) for code, m in self.methods.items()]
        self.fields["pickup_point"].choices = [(o.code, o.point.name) for o in self.pickup_options]
        self.countries = list(countries)
        if len(self.countries) > 1:
            self.fields["country"].queryset = Country.objects.filter(pk__in=[c.pk for c in self.countries])
        else:
            del self.fields["country"]
        if not ask_email:
            del self.fields["guest_email"]

    @property
    def chosen_method(self):
        return self.methods.get(self.data.get(self.add_prefix("method_code")) or self.initial.get("method_code"))

    def clean(self):
        cleaned = super().clean()
        method = self.methods.get(cleaned.get("method_code"))
        if method is None:
            return cleaned
        if getattr(method, "needs_address", True):
            for name, message in (
                ("line4", _("Enter the city.")),
                ("line1", _("Enter the street, house and flat.")),
            ):
                if not (cleaned.get(name) or "").strip():
                    self.add_error(name, message)
            if "country" in self.fields and not cleaned.get("country"):
                self.add_error("country", _("Choose the country."))
        else:
            code = cleaned.get("pickup_point")
            if not code or code not in {o.code for o in self.pickup_options}:
                self.add_error("pickup_point", _("Choose the pickup point."))
        return cleaned

    def pickup_option(self):
        code = self.cleaned_data.get("pickup_point")
        return next((o for o in self.pickup_options if o.code == code), None)

    def shipping_country(self):
        if "country" in self.fields and self.cleaned_data.get("country"):
            return self.cleaned_data["country"]
        return self.countries[0] if self.countries else None
