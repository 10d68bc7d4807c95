"""
Product cards as listing pages, the product page's related products and the home page
show them: drawn once for a kind of shopper and kept in the cache, a whole page in one
entry and card by card, until the listing rows change (:mod:`.caching`).

A card costs about a millisecond of Python (Oscar's ``render_product``, the partner
strategy, the thumbnail) after its products were read with everything the strategy
needs (:func:`.selectors.products_for`); a page of 24 uncached cards was 40% of an
uncached search. Cards show prices, old prices and availability, which change only with
the listing rows (every exchange, order and stock save refreshes them) or with the
settings and the customer's price type that are part of the key. The add-to-basket forms
carry a placeholder that becomes the request's CSRF token.
"""

from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from shop import thumbnails

from . import caching, selectors

#: What the cards' forms carry instead of a shopper's CSRF token while cached.
CSRF_PLACEHOLDER = "csrf-token-of-the-request"
#: What ends each card in ``search/partials/cards.html`` (where drawn cards are cut apart).
CARD_END = "<!--/card-->"
#: The grid cell of a card: three a row beside the filters of a listing page, four a row elsewhere.
LISTING = "col-6 col-lg-4"
ROW_OF_FOUR = "col-6 col-md-4 col-lg-3"


def shopper_key(request):
    """What a card depends on beside its product: the language and the strategy's prices and stock rule."""
    strategy = request.strategy
    price_type = getattr(strategy, "customer_price_type", None)
    return (
        get_language(),
        price_type[0] if price_type else None,
        getattr(strategy, "old_price_type_id", None),
        getattr(strategy, "sales_partner_id", None),
        getattr(strategy, "low_stock_threshold", None),
    )


def draw(request, ids, cell=LISTING):
    """The cards of the products ``ids``, in that order, as safe HTML."""
    shopper = (cell, *shopper_key(request))

    def draw_missing(missing):
        products = selectors.products_for(missing)
        # Whether the cards' thumbnails exist, asked of sorl's store once for them all.
        thumbnails.prepare([thumbnails.card_picture(product) for product in products], **thumbnails.CARD_THUMBNAIL)
        html = render_to_string(
            "search/partials/cards.html",
            {"products": products, "csrf_token": CSRF_PLACEHOLDER, "cell": cell},
            request=request,
        )
        # One render for all the missing cards, cut into one piece a product.
        pieces = html.split(CARD_END)[:-1]
        if len(pieces) != len(products):  # an overridden card template without the end mark
            raise ValueError(f"search/partials/cards.html drew {len(pieces)} cards for {len(products)} products")
        return {product.pk: piece for product, piece in zip(products, pieces)}

    def page():
        cards = caching.cached_fragments("card", {pk: (pk, *shopper) for pk in ids}, draw_missing)
        return "".join(cards.get(pk, "") for pk in ids)

    html = caching.cached_fragment("cards", (tuple(ids), *shopper), page)
    return mark_safe(html.replace(CSRF_PLACEHOLDER, get_token(request)))
