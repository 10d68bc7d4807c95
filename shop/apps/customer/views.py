"""Oscar's account views; an order's page is titled as the shop writes an order's number."""

from django.utils.translation import gettext as _
from oscar.apps.customer import views as oscar_views


class OrderDetailView(oscar_views.OrderDetailView):
    def get_page_title(self):
        """«Заказ № 100005» (the guest's order page and e-mails say so); Oscar glues «Заказ #100005»."""
        return _("Order #%(number)s") % {"number": self.object.number}
