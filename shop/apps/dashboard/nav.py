"""
Who sees which entry of the dashboard's menu.

The menu (``OSCAR_DASHBOARD_NAVIGATION`` in ``shop/settings.py``) also leads to pages that
live in the Django admin: the listing filters, the shop's settings, the 1C exchange
journal. Oscar's rule knows the dashboard's own pages only (it looks the page up among the
dashboard apps' URLs); for an admin page the admin's own rule decides, so a manager sees
the entry exactly when the admin would let them open the page.
"""

from types import SimpleNamespace

from django.contrib import admin
from oscar.apps.dashboard import nav as oscar_nav

ADMIN_PREFIX = "admin:"
ADMIN_PAGE_SUFFIXES = ("_changelist", "_add")


def admin_page_allowed(user, url_name):
    """Whether the admin lets ``user`` open the list (or add form) named ``url_name``."""
    request = SimpleNamespace(user=user)  # the admin's permission rules read request.user only
    if not admin.site.has_permission(request):
        return False
    name = url_name[len(ADMIN_PREFIX):]
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}"
        if name in (prefix + suffix for suffix in ADMIN_PAGE_SUFFIXES):
            return model_admin.has_view_or_change_permission(request)
    return name == "index"


def default_access_fn(user, url_name, url_args=None, url_kwargs=None):
    if url_name and url_name.startswith(ADMIN_PREFIX):
        return admin_page_allowed(user, url_name)
    return oscar_nav.default_access_fn(user, url_name, url_args, url_kwargs)
