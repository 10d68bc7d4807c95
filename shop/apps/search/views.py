"""
The storefront's listing pages, read from the database (see ``selectors``).

They replace Oscar's Haystack views under the same names, so Oscar's catalogue app
(``get_class("search.views", "CatalogueView")``) and URLs pick them up unchanged.
"""

from urllib.parse import unquote, urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import ListView, TemplateView
from oscar.apps.search.signals import user_search
from oscar.core.loading import get_class, get_model

from . import selectors

SearchForm = get_class("search.forms", "SearchForm")
Category = get_model("catalogue", "Category")


class HomeView(TemplateView):
    """The shop's front page at "/": the top categories and the newest products."""

    template_name = "oscar/home.html"
    #: How many products the front page shows.
    products_shown = 12

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["categories"] = list(selectors.top_categories())
        context["products"] = selectors.newest_products(self.products_shown)
        return context


class ProductListView(ListView):
    """
    A paginated list of product cards (``OSCAR_PRODUCTS_PER_PAGE`` a page) in the
    order chosen with ``?sort_by=``. Subclasses say which products.
    """

    context_object_name = "products"
    paginate_by = settings.OSCAR_PRODUCTS_PER_PAGE

    def get(self, request, *args, **kwargs):
        # pylint: disable=attribute-defined-outside-init
        self.form = SearchForm(request.GET)
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # A page number past the end (a product was hidden since the link was
            # made): go to the first page rather than fail.
            messages.error(request, _("The given page number was invalid."))
            return redirect(self.first_page_url())

    def get_products(self):
        raise NotImplementedError

    def first_page_url(self):
        raise NotImplementedError

    def get_queryset(self):
        products = selectors.sort_products(self.get_products(), self.form.sort_key())
        return selectors.for_listing(products)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = self.form
        context["page"] = context["page_obj"]
        return context


class CatalogueView(ProductListView):
    """Every browsable product of the shop."""

    template_name = "oscar/catalogue/browse.html"

    def get_products(self):
        return selectors.browsable_products()

    def first_page_url(self):
        return self.request.path

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = _("All products")
        return context


class ProductCategoryView(ProductListView):
    """The products of a category and of all its public subcategories."""

    template_name = "oscar/catalogue/category.html"
    #: Redirect to the category's canonical URL when its slug changed (1C renamed the group).
    enforce_paths = True

    def get(self, request, *args, **kwargs):
        # pylint: disable=attribute-defined-outside-init
        self.category = get_object_or_404(Category, pk=self.kwargs["pk"])
        if not self.is_viewable(self.category, request):
            raise Http404()
        expected_path = self.category.get_absolute_url()
        if self.enforce_paths and unquote(expected_path) != unquote(request.path):
            return HttpResponsePermanentRedirect(expected_path)
        return super().get(request, *args, **kwargs)

    def is_viewable(self, category, request):
        """Hidden categories (and those under a hidden one) are shown to staff only, to check their layout."""
        return (category.is_public and category.ancestors_are_public) or request.user.is_staff

    def get_products(self):
        return selectors.products_in_category(self.category)

    def first_page_url(self):
        return self.category.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["category"] = self.category
        context["subcategories"] = list(self.category.get_children().filter(is_public=True).order_by("path"))
        context["summary"] = self.category.name
        return context


class SearchView(ProductListView):
    """``/search/?q=…``: products by words of their title or description, or by article/barcode/code."""

    template_name = "oscar/search/results.html"
    context_object_name = "results"

    def dispatch(self, request, *args, **kwargs):
        # Oscar's analytics app records the searches of signed-in shoppers.
        user_search.send(
            sender=self, session=request.session, user=request.user, query=request.GET.get("q", "")
        )
        return super().dispatch(request, *args, **kwargs)

    def get_products(self):
        return selectors.search_products(self.form.query())

    def first_page_url(self):
        return "%s?%s" % (self.request.path, urlencode({"q": self.form.query()}))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = self.form.query()
        return context
