"""
The back office as a manager finds it: a staff user, an exchange journal with a finished
and a running import, price types, orders placed through the checkout's code.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from integration_1c.models import CustomerGroupPriceType, ExchangeFile, ExchangeSession, PriceType
from tests.orders.conftest import OrderMaker


@pytest.fixture
def manager(django_user_model):
    """A superuser who also works in Oscar's dashboard (staff)."""
    return django_user_model.objects.create_superuser(
        "manager", "manager@example.com", "Parol-menedzhera-1", first_name="Айгуль", last_name="Серикова"
    )


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def order_maker():
    return OrderMaker()


@pytest.fixture
def back_office(exchange_user, order_maker):
    """One of everything the back office lists."""
    now = timezone.now()
    session = ExchangeSession.objects.create(
        exchange_type=ExchangeSession.CATALOG,
        user=exchange_user,
        token="office-1",
        remote_addr="192.0.2.10",
        schema_version="2.08",
        folder="catalog/office",
        started_at=now - timedelta(minutes=3),
        last_seen_at=now,
    )
    ExchangeFile.objects.create(
        session=session, name="import.xml", size=4096, kind="catalogue", state=ExchangeFile.DONE,
        processed=120, created=100, updated=15, hidden=5, skipped=1,
        warnings=["import.xml: Товар «Стол»: нет группы «Мебель»", "import.xml: Товар «Стул»: нет группы «Дача»"],
        started_at=now - timedelta(minutes=2), finished_at=now - timedelta(minutes=1),
    )  # fmt: skip
    ExchangeFile.objects.create(
        session=session, name="offers.xml", size=8192, kind="offers", state=ExchangeFile.RUNNING,
        processed=300, started_at=now - timedelta(seconds=30),
    )  # fmt: skip
    failed = ExchangeSession.objects.create(
        exchange_type=ExchangeSession.CATALOG, user=exchange_user, token="office-0",
        state=ExchangeSession.FAILED, started_at=now - timedelta(hours=3), last_seen_at=now - timedelta(hours=3),
        finished_at=now - timedelta(hours=3),
    )  # fmt: skip
    ExchangeFile.objects.create(
        session=failed, name="import.xml", kind="catalogue", state=ExchangeFile.FAILED,
        error="import.xml: файл обрывается на строке 10: XML не закончен",
    )  # fmt: skip
    retail = PriceType.objects.create(code="ц-розница", name="Розничная", currency="KZT")
    PriceType.objects.create(code="ц-старая", name="Старая цена", currency="KZT")
    CustomerGroupPriceType.objects.create(group=Group.objects.create(name="Оптовики"), price_type=retail)
    product = order_maker.product(title="Дрель ударная", price=Decimal("25990.00"), product_class="Товар")
    order = order_maker.place(lines=[(product, 2)], guest_email="pokupatel@example.com")
    return {"session": session, "failed": failed, "order": order, "product": product, "price_type": retail}
