from oscar.apps.shipping import repository

from .methods import CourierDelivery, Pickup


class Repository(repository.Repository):
    """
    The shipping methods offered at checkout. Courier delivery comes first: Oscar uses
    the first method for the estimate on the basket page.
    """

    methods = (CourierDelivery(), Pickup())
