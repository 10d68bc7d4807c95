"""
The product page's structured data: a schema.org ``Product`` in JSON-LD, built from the
same :class:`~shop.apps.partner.display.SellableStock` rows the page shows.

* ``sku`` is the 1C article (Артикул), ``gtin13`` the barcode (Штрихкод) only when it is
  a valid EAN-13 (check digit verified) — search engines reject the page's data
  otherwise;
* ``offers``: one ``Offer`` per sellable product (the product, or each variant of a
  parent) with price, currency, availability (InStock / LimitedAvailability /
  OutOfStock) and ``inventoryLevel``; plus, for each selling warehouse, an ``Offer``
  ``availableAtOrFrom`` a ``Place`` named after the warehouse with its quantity.
"""

import json
from html import unescape

from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from .availability import SCHEMA_IN_STOCK, SCHEMA_LIMITED, SCHEMA_OUT_OF_STOCK

# What must not appear raw inside <script>: a "</script>" or "<!--" would end or bend
# the element; U+2028/2029 break old JavaScript parsers.
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def product_jsonld(product, sellables, request, low_stock_threshold):
    """The ``Product`` object for ``product`` (a dict ready for :func:`as_script`)."""
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.get_title(),
        "url": request.build_absolute_uri(product.get_absolute_url()),
    }
    description = product.description or (product.parent.description if product.parent_id else "")
    description = _plain_text(description)
    if description:
        data["description"] = description
    image = _image_url(product, request)
    if image:
        data["image"] = image
    if len(sellables) == 1 and not product.is_parent:
        only = sellables[0]
        if only.article:
            data["sku"] = only.article
        if only.gtin13:
            data["gtin13"] = only.gtin13
    offers = []
    for sellable in sellables:
        offers.extend(_offers(sellable, request, low_stock_threshold, is_variant=product.is_parent))
    if offers:
        data["offers"] = offers
    return data


def as_script(data):
    """``data`` as a ``<script type="application/ld+json">`` element, safe to embed."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308 (escaped above)


def _offers(sellable, request, low_stock_threshold, is_variant):
    price = sellable.price
    if not price.exists:
        return []
    base = {
        "@type": "Offer",
        "price": f"{price.incl_tax:.2f}",
        "priceCurrency": price.currency,
        "url": request.build_absolute_uri(sellable.product.get_absolute_url()),
    }
    if sellable.article:
        base["sku"] = sellable.article
    if is_variant:
        base["name"] = sellable.title
        if sellable.gtin13:
            base["gtin13"] = sellable.gtin13
    main = dict(base)
    main["availability"] = getattr(sellable.availability, "schema_org", None) or (
        SCHEMA_IN_STOCK if sellable.can_buy else SCHEMA_OUT_OF_STOCK
    )
    main["inventoryLevel"] = _quantity(sellable.num_available)
    offers = [main]
    for warehouse in sellable.warehouses:
        offer = dict(base)
        offer["availability"] = _availability(warehouse.quantity, low_stock_threshold)
        offer["inventoryLevel"] = _quantity(warehouse.quantity)
        offer["availableAtOrFrom"] = {"@type": "Place", "name": warehouse.name}
        offers.append(offer)
    return offers


def _availability(quantity, low_stock_threshold):
    if quantity <= 0:
        return SCHEMA_OUT_OF_STOCK
    return SCHEMA_LIMITED if quantity < low_stock_threshold else SCHEMA_IN_STOCK


def _quantity(value):
    return {"@type": "QuantitativeValue", "value": max(0, int(value or 0)), "unitText": "шт."}


def _plain_text(html):
    return " ".join(unescape(strip_tags(html or "")).split())


def _image_url(product, request):
    image = product.primary_image()
    original = getattr(image, "original", None)
    if not getattr(image, "pk", None) or not original:
        return None
    try:
        return request.build_absolute_uri(original.url)
    except ValueError:
        return None
