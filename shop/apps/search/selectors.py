"""
What the storefront lists: the browse pages, the home page and search, read straight
from the database.

Oscar's own browse pages ask Haystack, whose simple backend lists no products at all,
and any search index lags behind the 1C import: a product hidden, shown or repriced by
an exchange would show so only after a re-index. These querysets read Oscar's tables,
so every change made by 1C or in the dashboard shows on the next page load.
"""

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, Replace
from oscar.core.loading import get_model

from integration_1c import conf
from shop.apps.partner.prefetch import prefetch_for_strategy

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
Option = get_model("catalogue", "Option")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
StockRecord = get_model("partner", "StockRecord")

#: Attribute codes (written by the 1C import) whose value identifies a product: a
#: shopper who types an article or a barcode expects that very product.
IDENTIFIER_ATTRIBUTES = ("article", "barcode")

# Sort keys offered on listing pages; the same values as Oscar's search form.
RELEVANCY = "relevancy"
TOP_RATED = "rating"
NEWEST = "newest"
PRICE_HIGH_TO_LOW = "price-desc"
PRICE_LOW_TO_HIGH = "price-asc"
TITLE_A_TO_Z = "title-asc"
TITLE_Z_TO_A = "title-desc"


def browsable_products():
    """
    Products a shopper may browse: public, and either standalone or a parent (the
    variants of a parent are sold from the parent's page, never listed on their own).
    """
    return Product.objects.filter(
        is_public=True,
        parent__isnull=True,
        structure__in=[Product.STANDALONE, Product.PARENT],
    )


def browsable_categories():
    """Categories shown to shoppers: public, with all their ancestors public (1C groups hidden by an import are not)."""
    return Category.objects.browsable()


def top_categories():
    """The public root categories, in tree order: the first level of the 1C groups."""
    return browsable_categories().filter(depth=1).order_by("path")


def products_in_category(category):
    """
    Browsable products in ``category`` or in any public category below it. A 1C
    catalogue puts products in the deepest group, so a shopper opening «Инструменты»
    expects the products of «Дрели» and every other subgroup too.
    """
    in_subtree = ProductCategory.objects.filter(
        product=OuterRef("pk"),
        category__path__startswith=category.path,
        category__is_public=True,
    )
    return browsable_products().filter(Exists(in_subtree))


def search_products(query):
    """
    Browsable products matching ``query``: each word of it must occur (in any case, ё
    and е alike) in the title or the description, or the whole query is the product's article, barcode,
    code (1C Ид) or UPC, or those of one of its variants. Identifier matches come first.
    """
    words = [fold_text(word) for word in query.split()]
    if not words:
        return Product.objects.none()
    products = browsable_products().annotate(
        _title_folded=_folded("title"), _description_folded=_folded("description")
    )
    words_match = Q()
    for word in words:
        words_match &= Q(_title_folded__contains=word) | Q(_description_folded__contains=word)
    identifier_match = _identifier_match(query.strip().lower())
    return products.filter(words_match | identifier_match).annotate(
        _identifier_hit=Case(When(identifier_match, then=Value(1)), default=Value(0), output_field=IntegerField())
    )


def fold_text(text):
    """Lowercase, with ё read as е: shoppers rarely type ё, 1C titles often have it."""
    return text.lower().replace("ё", "е")


def _folded(field):
    """``fold_text`` done by the database on ``field``."""
    return Replace(Lower(field), Value("ё"), Value("е"), output_field=TextField())


def _identifier_match(identifier):
    """A condition: the product or one of its variants carries ``identifier`` (lowercase)."""
    own_or_variant = Q(product=OuterRef("pk")) | Q(product__parent=OuterRef("pk"))
    attribute_hit = (
        ProductAttributeValue.objects.filter(own_or_variant, attribute__code__in=IDENTIFIER_ATTRIBUTES)
        .annotate(_value_lower=Lower("value_text"))
        .filter(_value_lower=identifier)
    )
    variant_hit = (
        Product.objects.filter(parent=OuterRef("pk"))
        .annotate(_code_lower=Lower("code"), _upc_lower=Lower("upc"))
        .filter(Q(_code_lower=identifier) | Q(_upc_lower=identifier))
    )
    own_hit = Q(
        pk__in=Product.objects.annotate(_code_lower=Lower("code"), _upc_lower=Lower("upc"))
        .filter(Q(_code_lower=identifier) | Q(_upc_lower=identifier))
        .values("pk")
    )
    return own_hit | Exists(attribute_hit) | Exists(variant_hit)


def sort_products(products, sort_by):
    """
    Order ``products`` by one of the sort keys. Relevancy puts identifier matches of a
    search first and is otherwise "newest first"; every order ends on the primary key
    so that pages never repeat or skip a product.
    """
    if sort_by == PRICE_LOW_TO_HIGH:
        return _with_selling_price(products).order_by(F("_selling_price").asc(nulls_last=True), "-pk")
    if sort_by == PRICE_HIGH_TO_LOW:
        return _with_selling_price(products).order_by(F("_selling_price").desc(nulls_last=True), "-pk")
    if sort_by == TITLE_A_TO_Z:
        return products.order_by(Lower("title"), "pk")
    if sort_by == TITLE_Z_TO_A:
        return products.order_by(Lower("title").desc(), "-pk")
    if sort_by == TOP_RATED:
        return products.order_by(F("rating").desc(nulls_last=True), "-date_created", "-pk")
    if sort_by == RELEVANCY and "_identifier_hit" in products.query.annotations:
        return products.order_by("-_identifier_hit", "-date_created", "-pk")
    return products.order_by("-date_created", "-pk")


def _with_selling_price(products):
    """
    Annotate the price shoppers pay: the one on the sales stock record (partner
    ``ONEC_SALES_PARTNER_CODE``), for a parent the lowest of its public variants'.
    """
    sales = StockRecord.objects.filter(partner__code=conf.get("ONEC_SALES_PARTNER_CODE"))
    own_price = sales.filter(product=OuterRef("pk")).values("price")[:1]
    variant_price = (
        sales.filter(product__parent=OuterRef("pk"), product__is_public=True)
        .values("product__parent")
        .annotate(lowest=Min("price"))
        .values("lowest")[:1]
    )
    return products.annotate(_selling_price=Coalesce(Subquery(own_price), Subquery(variant_price)))


def for_listing(products):
    """
    Everything a product card needs, fetched in a fixed number of queries whatever the
    number of products: the product class, whether the product has options (the card
    shows an add-to-basket button only without), and the partner strategy's data.
    """
    class_options = Option.objects.filter(productclass=OuterRef("product_class"))
    own_options = Option.objects.filter(product=OuterRef("pk"))
    products = products.select_related("product_class").annotate(
        has_product_class_options=Exists(class_options),
        has_product_options=Exists(own_options),
    )
    return prefetch_for_strategy(products)


def newest_products(limit):
    """The ``limit`` most recently added browsable products, ready to render as cards."""
    return list(for_listing(sort_products(browsable_products(), NEWEST))[:limit])
