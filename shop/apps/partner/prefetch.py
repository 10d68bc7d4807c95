"""
What listing pages prefetch so that the partner strategy can price and tell the
availability of every product, and the product card can draw it, without a query per
product.

The strategy (:mod:`shop.apps.partner.strategy`) and the selectors it uses read
``product.stockrecords`` (sales and warehouse records, with their partners),
``product.onec_prices`` (only the price types that can matter: the old-price type and the
types customer groups are mapped to), ``product.images`` and, for a parent,
``product._prefetched_public_children`` (Oscar's own attribute for prefetched public
variants, read by ``Product.get_public_children``) with the same rows for each variant.
"""

from django.db.models import Prefetch
from oscar.core.loading import get_model

from . import selectors

StockRecord = get_model("partner", "StockRecord")
ProductImage = get_model("catalogue", "ProductImage")
Product = get_model("catalogue", "Product")


def _product_price_model():
    from integration_1c.models import ProductPrice

    return ProductPrice


def prefetch_for_strategy(queryset, with_children=True, sales_only=False):
    """
    ``queryset`` of products with everything the strategy and the product card read
    prefetched: a constant number of queries for a whole page, whatever its size.
    ``with_children=False`` is for a queryset of variants themselves. ``sales_only``
    (product cards) prefetches only the sales stock records and no pictures of variants:
    a card shows the price and availability the shop sells at and the product's own
    picture, not the stock of each 1C warehouse, which would otherwise be most of the
    rows read for a page.
    """
    price_type_ids = sorted(selectors.listing_price_type_ids())
    records = StockRecord.objects.select_related("partner").order_by("pk")
    if sales_only:
        records = records.filter(partner_id=selectors.sales_partner_id())
    return _with_lookups(queryset, price_type_ids, with_children, records, child_images=not sales_only)


def _with_lookups(queryset, price_type_ids, with_children, records, images=True, child_images=True):
    """The lookups; a card shows its parent's picture, never a variant's (``child_images=False``)."""
    lookups = [
        Prefetch("stockrecords", queryset=records),
        Prefetch(
            "onec_prices",
            queryset=_product_price_model().objects.filter(price_type_id__in=price_type_ids),
        ),
    ]
    if images:
        lookups.append(Prefetch("images", queryset=ProductImage.objects.order_by("display_order", "pk")))
    if with_children:
        children = _with_lookups(
            Product.objects.filter(is_public=True), price_type_ids, False, records, images=child_images
        )
        lookups.append(Prefetch("children", queryset=children, to_attr="_prefetched_public_children"))
    return queryset.select_related("product_class").prefetch_related(*lookups)
