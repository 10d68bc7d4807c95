"""Template context of every page: the shop's identity (see ``shop.identity``)."""

from django.utils.functional import SimpleLazyObject

from shop.identity import get_shop_identity


def shop_identity(request):
    """
    ``shop_identity`` for the header and footer, and ``shop_name`` (Oscar's own templates
    use it; Oscar's metadata processor reads it from settings, this one from the admin).
    Both are lazy: read on first use, once per request.
    """
    identity = SimpleLazyObject(get_shop_identity)
    return {
        "shop_identity": identity,
        "shop_name": SimpleLazyObject(lambda: identity.name),
    }
