"""
What listing pages prefetch so that the partner strategy can price and tell the
availability of every product without a query per product.
"""

from django.db.models import Prefetch

from oscar.core.loading import get_model

StockRecord = get_model("partner", "StockRecord")
ProductImage = get_model("catalogue", "ProductImage")
Product = get_model("catalogue", "Product")


def prefetch_for_strategy(queryset):
    """Prefetch stock records, images and public children of ``queryset`` products."""
    children = Product.objects.filter(is_public=True).prefetch_related(
        Prefetch("stockrecords", queryset=StockRecord.objects.select_related("partner"))
    )
    return queryset.prefetch_related(
        Prefetch("stockrecords", queryset=StockRecord.objects.select_related("partner")),
        Prefetch("images", queryset=ProductImage.objects.order_by("display_order")),
        Prefetch("children", queryset=children),
    )
