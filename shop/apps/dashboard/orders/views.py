"""
Oscar's dashboard order list with the columns a call centre needs (1C state in words,
delivery or pickup point, payment method, phone) and filters by them.
"""

from django.db.models import Q
from django.utils.translation import gettext
from oscar.apps.dashboard.orders import views as oscar_views

from integration_1c import selectors

#: Shipping codes of pickup (shop.apps.shipping.methods), by prefix: pickup points may add their own.
PICKUP_PREFIX = "pickup"


def digits(text):
    return "".join(char for char in text or "" if char.isdigit())


class OrderListView(oscar_views.OrderListView):
    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.form.is_valid():
            return queryset
        data = self.form.cleaned_data
        identifier = data.get("identifier")
        if identifier:
            queryset = queryset.filter(pk__in=self._by_identifier(identifier).values("pk"))
        state = data.get("onec_state")
        if state:
            queryset = queryset.filter(selectors.order_1c_states()[state])
        delivery = data.get("delivery")
        if delivery == "pickup":
            queryset = queryset.filter(shipping_code__startswith=PICKUP_PREFIX)
        elif delivery == "courier":
            queryset = queryset.exclude(shipping_code__startswith=PICKUP_PREFIX)
        phone = digits(data.get("phone"))
        if phone:
            queryset = queryset.filter(
                Q(shipping_address__phone_number__contains=phone[-10:])
                | Q(user__addresses__phone_number__contains=phone[-10:])
            )
        return queryset.select_related("onec", "shipping_address", "user").prefetch_related(
            "sources__source_type"
        ).distinct()

    def _by_identifier(self, value):
        from shop.apps.dashboard.catalogue.views import identifier_matches

        products = identifier_matches(value)
        return self.base_queryset.filter(
            Q(lines__product__in=products) | Q(lines__product__parent__in=products) | Q(lines__upc__iexact=value)
        )

    def get_search_filter_descriptions(self):
        descriptions = super().get_search_filter_descriptions()
        if not self.form.is_valid():
            return descriptions
        data = self.form.cleaned_data
        for name in ("onec_state", "delivery"):
            if data.get(name):
                field = self.form.fields[name]
                descriptions.append(f"{field.label}: {dict(field.choices)[data[name]]}")
        if data.get("identifier"):
            descriptions.append(gettext("Article or barcode: %s") % data["identifier"])
        if data.get("phone"):
            descriptions.append(gettext("Phone: %s") % data["phone"])
        return descriptions
