"""Admin: price types and prices are visible (1C owns them); the group → price type mapping is editable."""

import pytest
from django.urls import reverse

from integration_1c.models import CustomerGroupPriceType

from .factories import GroupFactory, PriceTypeFactory, ProductFactory, ProductPriceFactory

pytestmark = pytest.mark.django_db


def test_price_types_and_prices_are_read_only_and_groups_map_to_price_types(admin_client, settings):
    settings.ONEC_PRICE_TYPE = "Розничная"
    retail = PriceTypeFactory(name="Розничная")
    wholesale = PriceTypeFactory(name="Оптовая")
    ProductPriceFactory(product=ProductFactory(title="Чайник"), price_type=retail)

    changelist = admin_client.get(reverse("admin:integration_1c_pricetype_changelist")).content.decode()
    assert "Розничная" in changelist and "Цена продажи" in changelist  # its role in the shop
    assert admin_client.get(reverse("admin:integration_1c_pricetype_add")).status_code == 403
    assert "Чайник" in admin_client.get(reverse("admin:integration_1c_productprice_changelist")).content.decode()
    assert admin_client.get(reverse("admin:integration_1c_productprice_add")).status_code == 403

    group = GroupFactory(name="Оптовики")
    response = admin_client.post(
        reverse("admin:integration_1c_customergrouppricetype_add"),
        {"group": group.pk, "price_type": wholesale.pk, "priority": 5},
    )
    assert response.status_code == 302
    mapping = CustomerGroupPriceType.objects.get()
    assert (mapping.group, mapping.price_type, mapping.priority) == (group, wholesale, 5)
    page = admin_client.get(reverse("admin:integration_1c_pricetype_change", args=[wholesale.pk]))
    assert "Оптовики" in page.content.decode()
