"""
Oscar's add-to-basket forms, telling the shopper how many pieces are already in their
basket when they ask for more than is available (:mod:`.stock`).
"""

from django import forms
from oscar.apps.basket import forms as oscar_forms
from oscar.apps.basket.forms import *  # noqa: F401,F403

from .stock import basket_stock


class AddToBasketForm(oscar_forms.AddToBasketForm):
    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            wanted = self.cleaned_data.get("quantity") or 1
            message = basket_stock(self.basket, self.product).refusal(wanted)
            if message:
                raise forms.ValidationError(message) from None
            raise


class SimpleAddToBasketForm(oscar_forms.SimpleAddToBasketMixin, AddToBasketForm):
    """Oscar's one-click form (quantity 1, hidden), on the shop's add-to-basket form."""
