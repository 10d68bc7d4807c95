"""
Words a manager reads in the back office: Django's sentences around our models' names,
the admin's frame, typography.
"""

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from shop.apps.search.models import FilterSetting

ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductClass = get_model("catalogue", "ProductClass")

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand_filter(db):
    product_class = ProductClass.objects.create(name="Товар")
    attribute = ProductAttribute.objects.create(product_class=product_class, name="Производитель", code="brand", type="text")
    setting, _created = FilterSetting.objects.get_or_create(attribute=attribute)
    return setting


def test_filters_admin_reads_naturally(manager_client, brand_filter):
    url = reverse("admin:search_filtersetting_changelist")
    page = manager_client.get(url).content.decode()

    assert "Выберите фильтр для изменения" in page
    assert 'id="changelist-filter-header">Фильтр<' in page
    assert "Найти" not in page

    response = manager_client.post(
        url,
        {
            "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(brand_filter.pk),
            "form-0-is_filterable": "on", "form-0-position": "5", "_save": "Сохранить",
        },
        follow=True,
    )  # fmt: skip
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["1 фильтр был успешно изменен."]
    index = manager_client.get(reverse("admin:index")).content.decode()
    assert ">Фильтры</a>" in index
