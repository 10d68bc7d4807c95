"""
The basket page re-checks stock on every visit (see :mod:`shop.apps.basket.reconcile`).
"""

from django.contrib import messages
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

