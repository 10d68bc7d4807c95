"""
Middleware for the exchange URL.

1C reads the first line of the body: an HTML "Server Error (500)" from a middleware
that ran before the view (Oscar's basket middleware loads the user, i.e. the session,
from the database on every request) is an unknown status to it, and Django's error page
may name the database host. So:

* :class:`ExchangeAnswerMiddleware` sits outermost and turns whatever answer the
  exchange URL got that is not the view's own (an error page of any middleware,
  a 400 for a bad Host, a CSRF page) into a text ``failure`` with a reason and an
  incident number; the exception itself goes to the log only;
* :class:`BasketMiddleware` is Oscar's, minus the exchange URL: 1C has no basket, and
  the exchange must not depend on the storefront's strategy or baskets.
"""

import logging
import re

from django.core.signals import got_request_exception
from django.dispatch import receiver
from oscar.apps.basket.middleware import BasketMiddleware as OscarBasketMiddleware

from .protocol.answers import TEXT_CONTENT_TYPE, failure, internal_failure

logger = logging.getLogger("integration_1c.protocol")

#: The paths of :mod:`integration_1c.urls`.
EXCHANGE_PATH = re.compile(r"^/(1c/exchange/?|bitrix/admin/1c_exchange\.php)$")
#: What the exchange view itself answers (text, or a type=sale XML document).
VIEW_CONTENT_TYPES = (TEXT_CONTENT_TYPE, "application/xml")


def is_exchange(request):
    return bool(EXCHANGE_PATH.match(request.path_info or ""))


@receiver(got_request_exception)
def remember_exchange_exception(sender, request=None, **kwargs):
    """Django's handler turns an exception into an error page: keep it for the answer."""
    import sys

    if request is not None and is_exchange(request):
        request.exchange_exception = sys.exc_info()[1]


class ExchangeAnswerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_exchange(request):
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except Exception as exc:  # raised past Django's own conversion (should not happen)
            return internal_failure(exc, logger)
        if response.status_code == 200 and response.get("Content-Type", "").startswith(VIEW_CONTENT_TYPES):
            return response
        exc = getattr(request, "exchange_exception", None)
        if exc is not None:
            return internal_failure(exc, logger, f"1C exchange {request.path_info}")
        logger.warning("1C exchange %s answered %s before the view: replaced", request.path_info, response.status_code)
        return failure(
            f"Сайт отклонил запрос обмена (HTTP {response.status_code}) до его обработки.",
            "Проверьте адрес сайта в настройках обмена 1С (и ALLOWED_HOSTS сайта).",
        )


class BasketMiddleware(OscarBasketMiddleware):
    def __call__(self, request):
        if is_exchange(request):
            return self.get_response(request)
        return super().__call__(request)
