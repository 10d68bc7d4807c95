"""
Oscar's dashboard product list, searching by the identifiers 1C sends and filtered by the
exchange journal's links (``?onec_file=<file>&onec_change=created|updated|hidden``).
"""

from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_noop
from oscar.apps.dashboard.catalogue import views as oscar_views
from oscar.core.loading import get_model

from integration_1c import selectors

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
StockRecord = get_model("partner", "StockRecord")
ExchangeFile = get_model("integration_1c", "ExchangeFile")

#: Attribute codes the 1C import writes the article and the barcode into.
IDENTIFIER_ATTRIBUTES = ("article", "barcode")

CHANGE_CAPTIONS = {
    "created": gettext_noop("Products created by «%(file)s»"),
    "updated": gettext_noop("Products updated by «%(file)s»"),
    "hidden": gettext_noop("Products hidden by «%(file)s»"),
}


def identifier_matches(value, exact=True):
    """Products (any structure) whose article, barcode, 1C code, UPC or partner SKU is ``value``."""
    lookup = "iexact" if exact else "icontains"
    attribute_products = ProductAttributeValue.objects.filter(
        attribute__code__in=IDENTIFIER_ATTRIBUTES, **{f"value_text__{lookup}": value}
    ).values("product_id")
    sku_products = StockRecord.objects.filter(**{f"partner_sku__{lookup}": value}).values("product_id")
    return Product.objects.filter(
        Q(**{f"upc__{lookup}": value})
        | Q(**{f"code__{lookup}": value})
        | Q(pk__in=attribute_products)
        | Q(pk__in=sku_products)
    )


class ProductListView(oscar_views.ProductListView):
    def apply_search(self, queryset):
        self.form = self.form_class(self.request.GET)
        if not self.form.is_valid():
            return queryset
        data = self.form.cleaned_data
        self.onec_file = None
        if data.get("onec_file") and data.get("onec_change"):
            self.onec_file = ExchangeFile.objects.filter(pk=data["onec_file"]).first()
            if self.onec_file is None:
                return queryset.none()
            queryset = queryset.filter(
                pk__in=selectors.file_products(self.onec_file, data["onec_change"]).values("pk")
            )
        identifier = (data.get("upc") or "").strip()
        if identifier:
            # An exact hit first (the manager typed a whole article); otherwise a part of one.
            for exact in (True, False):
                matches = identifier_matches(identifier, exact=exact)
                hits = queryset.filter(Q(pk__in=matches.values("pk")) | Q(pk__in=matches.values("parent_id")))
                if exact is False or hits.exists():
                    queryset = hits
                    break
        title = data.get("title")
        if title:
            queryset = queryset.filter(Q(title__icontains=title) | Q(children__title__icontains=title))
        return queryset.distinct()

    def get_description(self, form):
        onec_file = getattr(self, "onec_file", None)
        if onec_file is not None and form.is_valid() and form.cleaned_data.get("onec_change") in CHANGE_CAPTIONS:
            return gettext(CHANGE_CAPTIONS[form.cleaned_data["onec_change"]]) % {"file": onec_file.name}
        return super().get_description(form)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["product_counts"] = selectors.product_counts()
        return ctx
