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


def test_saving_the_settings_shows_in_recent_actions_in_russian(manager_client):
    url = reverse("admin:constance_config_changelist")
    form = manager_client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["SHOP_PHONE"] = "+7 727 355-00-11"
    data["ONEC_ORDER_STATUS_MAP"] = "{}"
    assert manager_client.post(url, data).status_code == 302

    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.get()
    assert entry.object_repr == "Настройки магазина"
    assert str(entry.content_type.name) == "Изменение настроек"
    index = manager_client.get(reverse("admin:index")).content.decode()
    assert "Config" not in index and "Настройки магазина" in index


def test_orders_filter_by_delivery_method_by_name(manager_client, order_maker):
    courier = order_maker.place(lines=[(order_maker.product(title="Дрель"), 1)], guest_email="a@example.kz")
    courier.shipping_code = "courier"
    courier.save()
    pickup = order_maker.place(lines=[(order_maker.product(title="Пила"), 1)], guest_email="b@example.kz")
    pickup.shipping_code = "pickup"
    pickup.save()
    url = reverse("admin:order_order_changelist")

    page = manager_client.get(url).content.decode()
    assert "Курьерская доставка" in page and "Самовывоз" in page
    assert ">courier<" not in page

    listed = manager_client.get(url, {"shipping_code": "pickup"}).context["cl"].result_list
    assert [order.number for order in listed] == [pickup.number]
