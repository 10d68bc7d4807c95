from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ShopLocaleMiddleware(LocaleMiddleware):
    """
    The shop speaks its own language (``LANGUAGE_CODE``, Russian) unless the shopper
    picks another one with the language switcher (Django's language cookie).

    A browser's Accept-Language is not a choice: everything 1C sends — product names,
    groups, warehouses, statuses — is in the shop's language, so negotiating English
    from the browser would give half-translated pages.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
