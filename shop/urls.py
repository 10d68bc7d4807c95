from django.apps import apps
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import Http404
from django.urls import include, path, re_path
from django.views import defaults
from django.views.generic import RedirectView
from oscar.core.loading import get_class

from shop.thumbnails import thumbnail_view

# "/" is the shop's front page (Oscar's own "home" only redirects to the catalogue).
HomeView = get_class("search.views", "HomeView")
# «Где мой заказ?»: guests find an order by number and email or phone (shop.apps.checkout.tracking).
OrderLookupView = get_class("checkout.tracking", "OrderLookupView")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # Thumbnails a page linked to before they were made (shop.thumbnails.Thumbnailer).
    path("thumbnail/<str:token>/", thumbnail_view, name="thumbnail"),
    path("admin/", admin.site.urls),
    path("", include("integration_1c.urls")),
    path("", HomeView.as_view(), name="home"),
    path("order-status/", OrderLookupView.as_view(), name="order-lookup"),
    # The shop has no wish lists (OSCAR_HIDDEN_FEATURES): Oscar's empty pages for them are
    # not shown; an old address leads to the account.
    re_path(r"^accounts/wishlists/", RedirectView.as_view(pattern_name="customer:summary", permanent=False)),
    path("", include(apps.get_app_config("oscar").urls[0])),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

if settings.ERROR_PAGE_PREVIEWS:
    # Development only: the 404 and 500 pages a visitor sees with DEBUG off, drawn by
    # Django's own handlers (DEBUG shows its technical pages instead).
    urlpatterns = [
        path("errors/404/", defaults.page_not_found, {"exception": Http404()}),
        path("errors/500/", defaults.server_error),
        *urlpatterns,
    ]
