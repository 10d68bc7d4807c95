"""Factories every test area shares: rows shaped the way the 1C import writes them."""

import uuid

import factory
from oscar.core.loading import get_model

from integration_1c import conf

ProductClass = get_model("catalogue", "ProductClass")


def onec_id():
    """A 1C-like Ид (a GUID)."""
    return str(uuid.uuid4())


class ProductClassFactory(factory.django.DjangoModelFactory):
    """The one product class 1C products are created in (conf ``ONEC_PRODUCT_CLASS_NAME``)."""

    class Meta:
        model = ProductClass
        django_get_or_create = ("name",)

    name = factory.LazyFunction(lambda: conf.get("ONEC_PRODUCT_CLASS_NAME"))
    track_stock = True
    requires_shipping = True
