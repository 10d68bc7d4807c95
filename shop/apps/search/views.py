"""
The storefront's listing pages, read from the listing rows (see ``selectors``).

They replace Oscar's Haystack views under the same names, so Oscar's catalogue app
(``get_class("search.views", "CatalogueView")``) and URLs pick them up unchanged.
Filters live in the query string (``filters.ListingFilters``): a filtered page is
shareable, names its unfiltered page as canonical and asks search engines not to index it.
"""

from urllib.parse import unquote

from django.conf import settings
from django.contrib import messages
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from oscar.apps.search.signals import user_search
from oscar.core.loading import get_class, get_model
from oscar.templatetags.currency_filters import currency

from . import caching, cards, selectors
from .filters import ListingFilters

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


class ProductListView(TemplateView):
    """
    A page of product cards (``OSCAR_PRODUCTS_PER_PAGE``) in the order chosen with
    ``?sort_by=``, narrowed by the filters of the query string, with the filter panel
    and its counts. Subclasses say which rows (:meth:`get_rows`).
    """

    paginate_by = settings.OSCAR_PRODUCTS_PER_PAGE
    searching = False
    #: Whether the page's rows are a part of the listing (a category, a search): they are
    #: then found first and sorted, rather than read along a sort index of all products.
    narrowed = True
    #: Whether the page has a filter panel.
    with_facets = True

    def get(self, request, *args, **kwargs):
        # pylint: disable=attribute-defined-outside-init
        self.form = SearchForm(request.GET, searching=self.searching)
        self.filters = ListingFilters.from_querydict(request.GET)
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # A page number past the end (a product was hidden since the link was
            # made): go to the first page rather than fail.
            messages.error(request, _("The given page number was invalid."))
            return redirect(self.first_page_url())

    def get_rows(self):
        """The listing rows of the page before the shopper's filters (``selectors.listings()`` narrowed)."""
        raise NotImplementedError

    def ordered_ids(self, rows):
        """The ids of the filtered ``rows`` in the chosen order (sliced by the paginator)."""
        if self.narrowed or self.filters.narrows_rows:
            return selectors.narrowed_page_ids(rows, self.form.sort_key())
        # All products, or all that are in stock: a walk along a sort index (in stock first).
        return selectors.sort_documents(rows, self.form.sort_key()).values_list("product_id", flat=True)

    def base_url(self):
        raise NotImplementedError

    def canonical_params(self):
        """Query parameters that make the page what it is (``q`` for a search)."""
        return {}

    def first_page_url(self):
        query = self.filters.querystring(**self.canonical_params(), sort_by=self.form.sort_param())
        return f"{self.base_url()}?{query}" if query else self.base_url()

    def paginate(self, rows, count):
        paginator = Paginator(rows, self.paginate_by)
        paginator.count = count  # already counted with the rest of the page's totals
        number = self.request.GET.get("page") or 1
        try:
            return paginator, paginator.page(number)
        except (EmptyPage, PageNotAnInteger) as error:
            raise Http404 from error

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        base = self.get_rows()
        if self.with_facets:
            # The filter panel's pass over the rows counts the page too.
            facets = selectors.facets(base, self.filters)
            totals = facets["totals"]
        else:
            facets, totals = None, selectors.listing_totals(base, self.filters)
        paginator, page = self.paginate(self.ordered_ids(selectors.apply_filters(base, self.filters)), totals["count"])
        ids = list(page.object_list)
        page.object_list = ids
        page_params = self.filters.querystring(**self.canonical_params(), sort_by=self.form.sort_param())
        context.update(
            form=self.form,
            filters=self.filters,
            facets=facets if paginator.count or self.filters.active else None,
            paginator=paginator,
            page_obj=page,
            page=page,
            is_paginated=paginator.num_pages > 1,
            page_range=list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
            products=page.object_list,
            product_cards=self.cards(ids),
            # The canonical page: its unfiltered first page (filtered pages are noindex).
            canonical_url=self.request.build_absolute_uri(self.canonical_path()),
            noindex=self.filters.active or page.number > 1 or self.searching,
            page_params=page_params,
            base_url=self.base_url(),
        )
        return context

    def canonical_path(self):
        return self.base_url()

    #: What the cards' form carries instead of a shopper's CSRF token while cached.
    CSRF_PLACEHOLDER = cards.CSRF_PLACEHOLDER

    def cards(self, ids):
        """The page's product cards (:func:`.cards.draw`)."""
        return cards.draw(self.request, ids)


class CatalogueView(ProductListView):
    """
    Every listed product of the shop («Все товары», where «Все новинки» leads too), with
    the filter panel of a category page. Unfiltered, its pages walk a sort index of the
    whole listing instead of sorting it.
    """

    template_name = "oscar/catalogue/browse.html"
    narrowed = False

    def get_rows(self):
        return selectors.listings()

    def base_url(self):
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
            query = request.META.get("QUERY_STRING")
            return HttpResponsePermanentRedirect(f"{expected_path}?{query}" if query else expected_path)
        return super().get(request, *args, **kwargs)

    def is_viewable(self, category, request):
        """Hidden categories (and those under a hidden one) are shown to staff only, to check their layout."""
        return (category.is_public and category.ancestors_are_public) or request.user.is_staff

    def get_rows(self):
        return selectors.in_category(selectors.listings(), self.category)

    def base_url(self):
        return self.category.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["category"] = self.category
        context["subcategories"] = list(self.category.get_children().filter(is_public=True).order_by("path"))
        context["summary"] = self.category.name
        return context


class SearchView(ProductListView):
    """``/search/?q=…``: products by any form of the words of their title or description, or by article/barcode/code."""

    template_name = "oscar/search/results.html"
    searching = True

    def dispatch(self, request, *args, **kwargs):
        # Oscar's analytics app records the searches of signed-in shoppers.
        user_search.send(sender=self, session=request.session, user=request.user, query=request.GET.get("q", ""))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        form = SearchForm(request.GET, searching=True)
        if not form.query():
            # An empty search (the box sent as it was): all products, with the same filters and sort.
            query = ListingFilters.from_querydict(request.GET).querystring(sort_by=form.sort_param())
            url = reverse("catalogue:index")
            return redirect(f"{url}?{query}" if query else url)
        return super().get(request, *args, **kwargs)

    def get_rows(self):
        # pylint: disable=attribute-defined-outside-init
        self.match = selectors.match(selectors.listings(), self.form.query())
        return self.match.rows

    def ordered_ids(self, rows):
        if self.form.sort_key() == selectors.RELEVANCY:
            # Unfiltered results are a slice of the search's own order: no query at all.
            return selectors.by_relevancy(self.match, rows if self.filters.active else None)
        return super().ordered_ids(rows)

    def base_url(self):
        return self.request.path

    def canonical_params(self):
        return {"q": self.form.query()}

    def canonical_path(self):
        query = self.filters.__class__().querystring(q=self.form.query())
        return f"{self.request.path}?{query}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = self.form.query()
        context["corrected_query"] = self.match.corrected
        context["results"] = context["products"]
        if not context["products"] and not self.filters.active:
            context["categories"] = list(selectors.top_categories())  # where to look instead
        return context


class SuggestView(View):
    """
    ``/search/suggest/?q=дре``: what the search box offers while a shopper types, as
    JSON — products (title, link, price) and categories. Read by ``search/js/suggest.js``.
    """

    min_length = 2

    def get(self, request):
        query = (request.GET.get("q") or "").strip()[:100]
        if len(query) < self.min_length:
            return JsonResponse({"query": query, "products": [], "categories": []})
        rows, categories = selectors.suggestions(query)
        products = [
            {
                "title": row["title"],
                "url": reverse("catalogue:detail", kwargs={"product_slug": row["slug"], "pk": row["product_id"]}),
                "price": currency(row["price"]) if row["price"] is not None else "",
            }
            for row in rows
            if row["slug"]
        ]
        response = JsonResponse(
            {
                "query": query,
                "products": products,
                "categories": [
                    {"name": category.name, "parent": category.parent_name, "url": category.get_absolute_url()}
                    for category in categories
                ],
                "all_url": f"{reverse('search:search')}?{ListingFilters().querystring(q=query)}",
                "all_label": str(_("All results")),
            }
        )
        response["Cache-Control"] = "max-age=60"
        return response
