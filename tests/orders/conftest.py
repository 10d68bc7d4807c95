"""
Orders for the 1C order-exchange tests, placed the way the checkout places them: a
basket priced by the shop's strategy, Oscar's (the shop's) ``OrderCreator``, so
``order_placed`` and the receivers run as in production.
"""

import uuid
from decimal import Decimal

import pytest
from django.contrib.sites.models import Site
from oscar.core.loading import get_class, get_model
from oscar.test.factories import (
    CountryFactory,
    ShippingAddressFactory,
    UserFactory,
    create_order,
    create_product,
    create_stockrecord,
)

from integration_1c.models import ExchangeSession

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
FixedPrice = get_class("shipping.methods", "FixedPrice")
Free = get_class("shipping.methods", "Free")
Default = get_class("partner.strategy", "Default")
Applicator = get_class("offer.applicator", "Applicator")


class Report:
    """The importer's report as ``apply_order_documents`` uses it."""

    def __init__(self):
        self.created = self.updated = self.skipped = 0
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class OrderMaker:
    """Places orders with real baskets; products carry 1C ids in ``code``."""

    def __init__(self):
        self.counter = 0

    def product(self, code=None, title="Чайник электрический", price=Decimal("1500.00"), stock=100, **kwargs):
        self.counter += 1
        code = code or f"{uuid.uuid4()}"
        return create_product(
            title=title, code=code, price=price, num_in_stock=stock, partner_sku=f"{code}-sku", **kwargs
        )

    def variant(self, parent_code, characteristic, title, price=Decimal("2500.00"), stock=100):
        """A 1C product with characteristics: a parent product and its child «product#characteristic»."""
        parent = Product.objects.filter(code=parent_code).first() or create_product(
            title=title.split(" (")[0], code=parent_code, structure="parent"
        )
        code = f"{parent_code}#{characteristic}"
        child = Product.objects.create(parent=parent, structure="child", title=title, code=code)
        create_stockrecord(child, price=price, num_in_stock=stock, partner_sku=code)
        return child

    def place(
        self,
        *,
        user=None,
        guest_email="",
        lines=None,
        shipping=Decimal("0.00"),
        number=None,
        address=True,
        strategy=None,
    ):
        basket = Basket.objects.create(owner=user)
        basket.strategy = strategy or Default()
        for product, quantity in lines or [(self.product(), 1)]:
            basket.add_product(product, quantity)
        Applicator().apply(basket, user)
        shipping_method = (
            FixedPrice(charge_excl_tax=shipping, charge_incl_tax=shipping) if shipping else Free()
        )
        shipping_address = (
            ShippingAddressFactory(
                country=CountryFactory(
                    iso_3166_1_a2="KZ", name="Republic of Kazakhstan", printable_name="Казахстан"
                ),
                first_name="Иван",
                last_name="Петров",
                line1="пр. Абая, 10, кв. 5",
                line4="Алматы",
                postcode="050000",
                phone_number="+77011234567",
                notes="Позвонить за час",
            )
            if address
            else None
        )
        extra = {"guest_email": guest_email} if guest_email else {}
        order = create_order(
            number=number,
            basket=basket,
            user=user,
            shipping_method=shipping_method,
            shipping_address=shipping_address,
            **extra,
        )
        return Order.objects.get(pk=order.pk)


@pytest.fixture
def orders():
    return OrderMaker()


@pytest.fixture
def report():
    return Report()


@pytest.fixture
def customer(db):
    return UserFactory(email="ivan@example.kz", first_name="Иван", last_name="Петров")


@pytest.fixture
def onec_user(db):
    return UserFactory(username="1c", email="1c@example.kz")


@pytest.fixture
def make_session(onec_user):
    def make(schema_version="2.08", user=None):
        return ExchangeSession.objects.create(
            exchange_type=ExchangeSession.SALE,
            token=uuid.uuid4().hex,
            user=user or onec_user,
            schema_version=schema_version,
        )

    return make


@pytest.fixture
def shop_site(db):
    site, _created = Site.objects.update_or_create(
        pk=1, defaults={"domain": "shop.example.kz", "name": "Магазин"}
    )
    Site.objects.clear_cache()
    return site


@pytest.fixture(autouse=True)
def queued_emails(request, monkeypatch):
    """
    Status emails the receivers queue, recorded instead of sent to the broker: tests
    run the task themselves. Tests with a real ``celery_worker`` get the real queue.
    """
    queued = []
    if "celery_worker" not in request.fixturenames:
        monkeypatch.setattr(
            "integration_1c.services.notifications.enqueue", lambda task, *args: queued.append((task, args))
        )
    return queued


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created in most tests: the production hasher would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
