"""
Template helpers for Oscar's dashboard: the last exchange with 1C, an order's 1C state in
words, a line's article, products and variants counted apart.

``{% load onec_dashboard %}``
"""

from django import template
from oscar.core.loading import get_model

from .. import display, selectors
from ..services import journal

register = template.Library()
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")


@register.simple_tag
def onec_exchange_health():
    """The last exchange and whether a successful one is overdue (ends finished exchanges first)."""
    journal.close_finished()
    return selectors.exchange_health()


@register.simple_tag
def onec_product_counts():
    return selectors.product_counts()


@register.simple_tag
def onec_order_state(order):
    """``(text, level)`` of :func:`integration_1c.display.order_1c_state`."""
    return display.order_1c_state(order)


@register.simple_tag
def onec_line_article(line):
    """
    The article of an order line's product as 1C sent it (the ``article`` attribute of the
    variant, else of its parent), else the line's UPC; empty when there is none.
    """
    product = line.product
    if product is not None:
        ids = [product.pk] + ([product.parent_id] if product.parent_id else [])
        values = dict(
            ProductAttributeValue.objects.filter(product_id__in=ids, attribute__code="article").values_list(
                "product_id", "value_text"
            )
        )
        for product_id in ids:
            if values.get(product_id):
                return values[product_id]
    return line.upc or ""


@register.simple_tag
def onec_payment_method(order):
    """The payment method the customer chose (Oscar's payment source type)."""
    names = [source.source_type.name for source in order.sources.all()]
    return ", ".join(names)
