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
def warehouse_amount(quantity):
    """«3 шт.» or «нет в наличии»: what one warehouse has."""
    if quantity > 0:
        return _("%(n)d pcs.") % {"n": quantity}
    return _("out of stock")


@register.filter
def warehouse_line(warehouses):
    """«Алматы — 3 шт., Астана — нет в наличии»."""
    return ", ".join(f"{warehouse.name} — {warehouse_amount(warehouse.quantity)}" for warehouse in warehouses)


@register.simple_tag
def variant_choice(sellables):
    """
    ``{axes, data, chosen}`` for a parent's page: one selector per characteristic with its values
    in natural order, and the variants' prices and stock for the page's script.
    """
    axes = display.variant_axes(sellables)
    return {
        "axes": axes,
        "data": display.variant_data(sellables, axes),
        "chosen": display.chosen_sellable(sellables, axes),
    }


@register.simple_tag
def product_properties(product):
    """The product's properties as 1C means them (see ``display.product_properties``)."""
    return display.product_properties(product)
