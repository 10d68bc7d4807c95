"""
The basket page re-checks stock on every visit (see :mod:`shop.apps.basket.reconcile`),
and keeps the header's basket button when it changes quantities without a reload.
"""

from django.contrib import messages
from django.http import JsonResponse
from django.template.loader import render_to_string
from oscar.apps.basket import views
from oscar.core.loading import get_class

from .reconcile import reconcile_basket

Applicator = get_class("offer.applicator", "Applicator")


class BasketView(views.BasketView):
    """Oscar's basket page, after bringing the basket in line with the stock on sale."""

    def get(self, request, *args, **kwargs):
        basket = request.basket
        adjustments = reconcile_basket(basket)
        if adjustments:
            Applicator().apply(basket, request.user, request)
            for adjustment in adjustments:
                messages.warning(request, adjustment.message)
        return super().get(request, *args, **kwargs)


    def json_response(self, ctx, flash_messages):
        """
        Oscar's answer to the page's AJAX update (new quantities, a removed line), with the
        header's basket button drawn again: Oscar hides that button on the basket page so as
        not to keep two baskets in sync; the shop keeps the header the same on every page
        and ``templates/oscar/basket/basket.html`` swaps the button in.
        """
        return JsonResponse(
            {
                "content_html": render_to_string(
                    "oscar/basket/partials/basket_content.html", context=ctx, request=self.request
                ),
                "mini_basket_html": render_to_string("oscar/partials/mini_basket.html", request=self.request),
                "messages": flash_messages.as_dict(),
            }
        )
