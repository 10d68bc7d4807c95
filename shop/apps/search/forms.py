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

    #: Sorts of category pages; search results add relevancy first. No rating sort: the
    #: shop has no reviews to rate by.
    SORT_BY_CHOICES = [
        (selectors.POPULAR, _("Popular first")),
        (selectors.NEWEST, _("New arrivals first")),
        (selectors.PRICE_LOW_TO_HIGH, _("Cheapest first")),
        (selectors.PRICE_HIGH_TO_LOW, _("Most expensive first")),
        (selectors.TITLE_A_TO_Z, _("By name")),
    ]
    SEARCH_SORT_BY_CHOICES = [(selectors.RELEVANCY, _("Best match first"))] + SORT_BY_CHOICES

    q = forms.CharField(
        required=False,
        max_length=200,
        label=_("Search"),
        widget=SearchInput(
            {
                "placeholder": _("Search"),
                "tabindex": "1",
                "class": "form-control",
                "autocomplete": "off",
            }
        ),
    )
    sort_by = forms.ChoiceField(label=_("Sort by"), choices=SORT_BY_CHOICES, required=False)

    def __init__(self, *args, searching=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.searching = searching
        if searching:
            self.fields["sort_by"].choices = self.SEARCH_SORT_BY_CHOICES

    def query(self):
        """The search words; "" when none or an invalid (too long) query was sent."""
        self.is_valid()
        return (self.cleaned_data.get("q") or "").strip()

    def sort_key(self):
        """The chosen sort key; the page's default when none or an unknown one was sent."""
        self.is_valid()
        return self.cleaned_data.get("sort_by") or self.default_sort()

    def default_sort(self):
        return selectors.RELEVANCY if self.searching else selectors.POPULAR

    def sort_param(self):
        """``sort_by`` for links, None for the default (the canonical URL carries no default)."""
        key = self.sort_key()
        return None if key == self.default_sort() else key
