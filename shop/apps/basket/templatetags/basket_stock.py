"""
``{% basket_stock product available as stock %}``: what the shopper's basket already holds
of ``product`` and how many more may be added (:class:`shop.apps.basket.stock.BasketStock`),
for the product page's quantity field and button.
"""

from django import template

from shop.apps.basket.stock import basket_stock as _basket_stock

register = template.Library()


@register.simple_tag(takes_context=True)
def basket_stock(context, product, available=None):
    request = context.get("request")
    basket = getattr(request, "basket", None) if request is not None else None
    return _basket_stock(basket, product, available)
