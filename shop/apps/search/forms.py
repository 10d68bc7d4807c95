"""
The search box and the sort selector of listing pages.

Oscar's forms are Haystack forms; these are plain Django forms read by the database
views in ``views.py``. The class name ``SearchForm`` is kept because Oscar's
``search_form`` context processor loads it by that name for the search box of every page.
"""

from django import forms
from django.forms.widgets import Input
from django.utils.translation import gettext_lazy as _

from . import selectors


class SearchInput(Input):
    """An HTML5 ``type="search"`` input (browsers fall back to text)."""

    input_type = "search"


class SearchForm(forms.Form):
    """``q``: the words to search for; ``sort_by``: the order of the products listed."""

    SORT_BY_CHOICES = [
        (selectors.RELEVANCY, _("Relevancy")),
        (selectors.NEWEST, _("Newest")),
        (selectors.PRICE_LOW_TO_HIGH, _("Price low to high")),
        (selectors.PRICE_HIGH_TO_LOW, _("Price high to low")),
        (selectors.TITLE_A_TO_Z, _("Title A to Z")),
        (selectors.TITLE_Z_TO_A, _("Title Z to A")),
        (selectors.TOP_RATED, _("Customer rating")),
    ]

    q = forms.CharField(
        required=False,
        max_length=200,
        label=_("Search"),
        widget=SearchInput({"placeholder": _("Search"), "tabindex": "1", "class": "form-control"}),
    )
    sort_by = forms.ChoiceField(label=_("Sort by"), choices=SORT_BY_CHOICES, required=False)

    def query(self):
        """The search words; "" when none or an invalid (too long) query was sent."""
        self.is_valid()
        return (self.cleaned_data.get("q") or "").strip()

    def sort_key(self):
        """The chosen sort key; relevancy when none or an unknown one was sent."""
        self.is_valid()
        return self.cleaned_data.get("sort_by") or selectors.RELEVANCY
