"""
What the product page shows about buying a product: for each thing that can go into the
basket (the product itself, or each public variant of a parent) its price, its
availability and its stock per warehouse, in one structure the template and the JSON-LD
both read, so they cannot disagree.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from oscar.core.loading import get_model

from . import selectors
from .prefetch import prefetch_for_strategy

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")

#: Attribute code prefix of variant characteristics (see the shared data model).
CHARACTERISTIC_PREFIX = "c_"


@dataclass
class SellableStock:
    """One product or variant as the shopper can buy it."""

    product: object
    info: object  # the strategy's PurchaseInfo
    warehouses: list = field(default_factory=list)
    article: str = ""
    barcode: str = ""
    #: The variant chosen when the page opens: the first that can be bought.
    preselected: bool = False

    @property
    def price(self):
        return self.info.price

    @property
    def availability(self):
        return self.info.availability

    @property
    def num_available(self):
        return getattr(self.availability, "num_available", 0) or 0

    @property
    def can_buy(self):
        return bool(self.price.exists and self.availability.is_available_to_buy)

    @property
    def title(self):
        """
        A variant's distinguishing text: its 1C characteristics (ХарактеристикиТовара,
        stored as ``c_…`` attributes), e.g. "Цвет: красный, Размер: M"; else its title.
        """
        if self.product.is_child:
            values = [
                value
                for value in self.product.attribute_values.all()
                if value.attribute.code.startswith(CHARACTERISTIC_PREFIX)
            ]
            if values:
                return ", ".join(f"{v.attribute.name}: {v.value_as_text}" for v in values)
        return self.product.get_title()

    @property
    def gtin13(self):
        return selectors.gtin13(self.barcode)


def sellable_stock(product, strategy):
    """
    ``[SellableStock]`` for ``product``: itself when standalone (or a variant), each
    public variant when a parent. A few queries, whatever the number of variants.
    """
    if product.is_parent:
        children = product.children.filter(is_public=True).order_by("pk")
        children = children.prefetch_related(
            Prefetch(
                "attribute_values",
                queryset=ProductAttributeValue.objects.select_related("attribute").order_by(
                    "attribute__name", "pk"
                ),
            )
        )
        items = list(prefetch_for_strategy(children, with_children=False))
        for child in items:
            child.parent = product
    else:
        items = list(prefetch_for_strategy(Product.objects.filter(pk=product.pk), with_children=False))
        if product.parent_id:
            for item in items:
                item.parent = product.parent
    identifiers = selectors.product_identifiers(items)
    warehouses = selectors.selling_warehouses()
    result = []
    for item in items:
        info = strategy.fetch_for_product(item)
        available = getattr(info.availability, "num_available", None)
        ids = identifiers.get(item.pk, {})
        result.append(
            SellableStock(
                product=item,
                info=info,
                warehouses=selectors.warehouse_stock(item, available=available, warehouses=warehouses),
                article=ids.get("article", ""),
                barcode=ids.get("barcode", ""),
            )
        )
    first = next((s for s in result if s.can_buy), None)
    if first is not None:
        first.preselected = True
    return result
