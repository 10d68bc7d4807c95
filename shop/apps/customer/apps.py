import oscar.apps.customer.apps as apps


class CustomerConfig(apps.CustomerConfig):
    """Oscar's customer app, forked for its login form's wording (``forms.py``)."""

    name = "shop.apps.customer"
