from oscar.apps.dashboard import apps


class DashboardConfig(apps.DashboardConfig):
    """Oscar's dashboard, forked so that ``get_class("dashboard.<app>.<module>")`` finds ours first."""

    name = "shop.apps.dashboard"
