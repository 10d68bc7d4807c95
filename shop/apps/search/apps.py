from django.core.signals import request_finished, request_started
from django.db.backends.signals import connection_created
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.apps.search import apps
from oscar.core.loading import get_class, get_model


def unicode_lower_for_sqlite(sender, connection, **kwargs):
    """
    Make SQLite's LOWER() lower Cyrillic too (it lowers ASCII only), so that search is
    case-insensitive for Russian words in the embedded default as it is on PostgreSQL.
    """
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "LOWER", 1, lambda value: value.lower() if isinstance(value, str) else value, deterministic=True
        )


class SearchConfig(apps.SearchConfig):
    """
    Browsing, filters and search from the database (``views``, ``selectors``) instead of
    Haystack: the simple backend lists no products, and an index would lag behind 1C.
    The listing rows they read (``models``) are refreshed by the receivers wired here.
    """

    name = "shop.apps.search"
    verbose_name = _("Search")

    def ready(self):
        # pylint: disable=attribute-defined-outside-init
        self.search_view = get_class("search.views", "SearchView")
        self.suggest_view = get_class("search.views", "SuggestView")
        connection_created.connect(unicode_lower_for_sqlite, dispatch_uid="shop.search.sqlite_lower")
        from . import caching

        request_started.connect(caching.request_started, dispatch_uid="shop.search.cache_version")
        request_finished.connect(caching.request_finished, dispatch_uid="shop.search.cache_version")
        self._connect_receivers()

    def get_urls(self):
        urlpatterns = [
            path("", self.search_view.as_view(), name="search"),
            path("suggest/", self.suggest_view.as_view(), name="suggest"),
        ]
        return self.post_process_urls(urlpatterns)

    @staticmethod
    def _connect_receivers():
        from oscar.apps.checkout.signals import post_checkout
        from oscar.apps.order.signals import order_status_changed

        from integration_1c.signals import catalogue_changed, catalogue_import_started, deferred_work_due

        from . import receivers

        Product = get_model("catalogue", "Product")
        ProductCategory = get_model("catalogue", "ProductCategory")
        ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
        StockRecord = get_model("partner", "StockRecord")
        ProductImage = get_model("catalogue", "ProductImage")

        catalogue_changed.connect(receivers.catalogue_changed, dispatch_uid="shop.search.catalogue_changed")
        catalogue_import_started.connect(
            receivers.catalogue_import_started, dispatch_uid="shop.search.catalogue_import_started"
        )
        deferred_work_due.connect(receivers.deferred_work_due, dispatch_uid="shop.search.deferred_work_due")
        post_save.connect(
            receivers.filter_setting_saved,
            sender="search.FilterSetting",
            dispatch_uid="shop.search.filter_setting_saved",
        )
        for signal, name in ((post_save, "post_save"), (post_delete, "post_delete")):
            signal.connect(
                lambda sender, instance, _name=name, **kw: receivers.product_saved(
                    sender, instance, signal_name=_name, **kw
                ),
                sender=Product,
                weak=False,
                dispatch_uid=f"shop.search.product.{name}",
            )
            # Pictures: no listing column, but the cached product cards show them.
            for model in (StockRecord, ProductAttributeValue, ProductCategory, ProductImage):
                signal.connect(
                    receivers.product_row_saved,
                    sender=model,
                    dispatch_uid=f"shop.search.{model._meta.label_lower}.{name}",
                )
        m2m_changed.connect(
            receivers.product_categories_changed,
            sender=ProductCategory,
            dispatch_uid="shop.search.product_categories",
        )
        post_checkout.connect(receivers.order_placed, dispatch_uid="shop.search.order_placed")
        # Sent with the order instance as sender: no sender filter.
        order_status_changed.connect(receivers.order_status_changed, dispatch_uid="shop.search.order_status_changed")
