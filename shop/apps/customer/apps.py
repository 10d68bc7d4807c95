import oscar.apps.customer.apps as apps


class CustomerConfig(apps.CustomerConfig):
    """Oscar's customer app, forked for its login form's wording and the order page's title."""

    name = "shop.apps.customer"
