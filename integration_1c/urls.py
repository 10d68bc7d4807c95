"""The 1C exchange's URLs: one view, at a clean path and at the path Bitrix shops use."""

from django.urls import re_path

from .protocol.views import exchange

urlpatterns = [
    # With or without the trailing slash: APPEND_SLASH would redirect a POST with a body.
    re_path(r"^1c/exchange/?$", exchange, name="onec_exchange"),
    re_path(r"^bitrix/admin/1c_exchange\.php$", exchange, name="onec_exchange_bitrix"),
]
