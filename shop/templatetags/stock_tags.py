"""
Template tags for price and stock on the storefront: the product page's sellable items
with their per-warehouse stock, its JSON-LD, and the per-warehouse line.

    {% load stock_tags %}
    {% sellable_stock product as sellables %}
    {% product_jsonld product sellables %}
    {{ sellable.warehouses|warehouse_line }}
"""

from django import template
from django.utils.translation import gettext as _

from integration_1c import conf
from shop.apps.partner import display, jsonld

register = template.Library()


@register.simple_tag(takes_context=True)
def sellable_stock(context, product):
    """
    ``[SellableStock]`` for the product page (the product, or each public variant),
    computed once per page: the page asks for it in several blocks.
    """
    strategy = context["request"].strategy
    cached = getattr(product, "_sellable_stock", None)
    if cached is None or cached[0] is not strategy:
        cached = (strategy, display.sellable_stock(product, strategy))
        product._sellable_stock = cached
    return cached[1]


@register.filter
def any_buyable(sellables):
    """Whether any of the page's products/variants can go into the basket now."""
    return any(s.can_buy for s in sellables)


@register.simple_tag(takes_context=True)
def product_jsonld(context, product, sellables):
    """The schema.org Product of the page as a ``<script type="application/ld+json">``."""
    data = jsonld.product_jsonld(
        product, sellables, context["request"], int(conf.get("ONEC_LOW_STOCK_THRESHOLD"))
    )
    return jsonld.as_script(data)


@register.filter
def warehouse_line(warehouses):
    """«Алматы — 3 шт., Астана — нет в наличии»."""
    parts = []
    for warehouse in warehouses:
        if warehouse.quantity > 0:
            amount = _("%(n)d шт.") % {"n": warehouse.quantity}
        else:
            amount = _("нет в наличии")
        parts.append(f"{warehouse.name} — {amount}")
    return ", ".join(parts)
