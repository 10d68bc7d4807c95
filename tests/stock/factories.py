"""
Factories that create products the way the 1C importer does (see the shared data model):
one ProductClass «Товар», ``code`` = 1C Ид (``product#characteristic`` for a variant),
warehouse partners with the 1C warehouse Ид as ``code``, one stock record per warehouse
and the SALES stock record on the partner ``ONEC_SALES_PARTNER_CODE`` whose
``num_in_stock`` is the sum of the selling warehouses.
"""

import io
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from oscar.core.loading import get_model
from PIL import Image

from integration_1c import conf
from tests.factories import ProductClassFactory, onec_id
from integration_1c.models import CustomerGroupPriceType, PriceType, ProductPrice

Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")


class WarehouseFactory(factory.django.DjangoModelFactory):
    """A 1C warehouse (Склад): partner code = its Ид."""

    class Meta:
        model = Partner
        django_get_or_create = ("code",)

    code = factory.LazyFunction(onec_id)
    name = factory.Sequence(lambda n: f"Склад {n}")


class SalesPartnerFactory(WarehouseFactory):
    code = factory.LazyFunction(lambda: conf.get("ONEC_SALES_PARTNER_CODE"))
    name = factory.LazyFunction(lambda: conf.get("ONEC_SALES_PARTNER_NAME"))


class ProductFactory(factory.django.DjangoModelFactory):
    """A standalone 1C product (Товар without characteristics)."""

    class Meta:
        model = Product

    structure = Product.STANDALONE
    title = factory.Sequence(lambda n: f"Товар {n}")
    code = factory.LazyFunction(onec_id)
    product_class = factory.SubFactory(ProductClassFactory)
    is_public = True


class ParentProductFactory(ProductFactory):
    structure = Product.PARENT


class ChildProductFactory(factory.django.DjangoModelFactory):
    """A variant: code = "<parent Ид>#<characteristic Ид>", no own product class."""

    class Meta:
        model = Product

    structure = Product.CHILD
    parent = factory.SubFactory(ParentProductFactory)
    title = ""
    code = factory.LazyAttribute(lambda o: f"{o.parent.code}#{onec_id()}")
    product_class = None
    is_public = True


class StockRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockRecord

    product = factory.SubFactory(ProductFactory)
    partner = factory.SubFactory(WarehouseFactory)
    partner_sku = factory.LazyAttribute(lambda o: o.product.code)
    price = Decimal("1000.00")
    price_currency = "KZT"
    num_in_stock = 0


class PriceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceType
        django_get_or_create = ("code",)

    code = factory.LazyFunction(onec_id)
    name = factory.Sequence(lambda n: f"Тип цен {n}")
    currency = "KZT"


class ProductPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductPrice

    product = factory.SubFactory(ProductFactory)
    price_type = factory.SubFactory(PriceTypeFactory)
    price = Decimal("1000.00")
    currency = "KZT"


class CustomerGroupPriceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroupPriceType

    group = factory.SubFactory("tests.stock.factories.GroupFactory")
    price_type = factory.SubFactory(PriceTypeFactory)
    priority = 0


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.Group"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Группа {n}")


def stock(product, warehouses, price="1000.00", num_allocated=0):
    """
    Write the product's stock as an offers import does, in bulk (no model signals): one
    record per warehouse ``{Partner or name: quantity}`` and the sales record with the
    sum of the selling warehouses (conf ``ONEC_SELLING_WAREHOUSES``), ``price`` and
    ``num_allocated``. Returns the sales record.
    """
    from shop.apps.partner.selectors import is_selling_warehouse

    price = Decimal(price) if price is not None else None
    rows, total = [], 0
    for warehouse, quantity in warehouses.items():
        if isinstance(warehouse, str):
            warehouse = Partner.objects.filter(name=warehouse).first() or WarehouseFactory(name=warehouse)
        rows.append(StockRecord(partner=warehouse, num_in_stock=quantity, num_allocated=0))
        if is_selling_warehouse(warehouse):
            total += quantity
    sales_partner = SalesPartnerFactory()
    rows.append(StockRecord(partner=sales_partner, num_in_stock=total, num_allocated=num_allocated))
    for row in rows:
        row.product = product
        row.partner_sku = product.code
        row.price = price
        row.price_currency = "KZT"
    StockRecord.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["partner", "partner_sku"],
        update_fields=["product", "num_in_stock", "num_allocated", "price", "price_currency", "date_updated"],
    )
    return StockRecord.objects.get(partner=sales_partner, partner_sku=product.code)


def set_attribute(product, code, value, name=None):
    """A text attribute (Артикул, Штрихкод, a characteristic) as the importer stores it."""
    product_class = product.get_product_class()
    attribute, _ = ProductAttribute.objects.get_or_create(
        product_class=product_class, code=code, defaults={"name": name or code, "type": ProductAttribute.TEXT}
    )
    ProductAttributeValue.objects.update_or_create(
        product=product, attribute=attribute, defaults={"value_text": value}
    )


def png(name):
    """A tiny PNG upload for a ProductImage."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
