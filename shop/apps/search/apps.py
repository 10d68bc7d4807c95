from django.db.backends.signals import connection_created
from oscar.apps.search import apps
from oscar.core.loading import get_class


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
    Browsing and search from the database (``views``, ``selectors``) instead of
    Haystack: the simple backend lists no products, and an index would lag behind 1C.
    """

    name = "shop.apps.search"

    def ready(self):
        # pylint: disable=attribute-defined-outside-init
        self.search_view = get_class("search.views", "SearchView")
        connection_created.connect(unicode_lower_for_sqlite, dispatch_uid="shop.search.sqlite_lower")
