"""
Admin names Oscar leaves without a translatable text: Django builds a plural «<name>s»
from the translated singular («Список желанийs»), and a field without a verbose name is
named after the field («date placed»). Set texts a translator can reach.
"""

from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

for model_name, plural in (
    ("WishList", _("Wish lists")),
    ("Line", _("Wish list lines")),
    ("WishListSharedEmail", _("Wish list shared emails")),
):
    get_model("wishlists", model_name)._meta.verbose_name_plural = plural

get_model("order", "Order")._meta.get_field("date_placed").verbose_name = _("Date placed")

# The search app's name is plain text (Oscar's app configs do the same): make it translatable.
from django.apps import apps  # noqa: E402

if apps.is_installed("shop.apps.search"):
    apps.get_app_config("search").verbose_name = _("Search")
get_model("order", "Order")._meta.get_field("shipping_code").verbose_name = _("Delivery method")
