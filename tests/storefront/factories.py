"""
Catalogue rows shaped the way the 1C import writes them (see the data model in the
project notes): product class «Товар», ``code`` = the 1C Ид, a stock record on a
warehouse partner AND one on the sales partner (``ONEC_SALES_PARTNER_CODE``), both with
the selling price, images with ``code`` = "<product code>|<digest>".

The storefront must work whichever of the two stock records the partner strategy
reads, so both always carry the same price and quantity here.
"""

import uuid
from decimal import Decimal

import factory
from oscar.core.loading import get_model

from integration_1c import conf
from tests.factories import ProductClassFactory, onec_id

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductImage = get_model("catalogue", "ProductImage")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

WAREHOUSE_CODE = "b1f3c1e2-0000-4000-8000-000000000001"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("code",)

    code = WAREHOUSE_CODE
    name = "Основной склад"


def sales_partner():
    """The partner the shop sells from (created by ``setup_shop`` and the 1C import)."""
    return PartnerFactory(code=conf.get("ONEC_SALES_PARTNER_CODE"), name=conf.get("ONEC_SALES_PARTNER_NAME"))


class CategoryFactory(factory.django.DjangoModelFactory):
    """A 1C group: a root category, or a child of ``parent``."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Группа {n}")
    code = factory.LazyFunction(onec_id)
    is_public = True

    @classmethod
    def _create(cls, model_class, parent=None, **kwargs):
        if parent is None:
            return model_class.add_root(**kwargs)
        return parent.add_child(**kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    """
    A standalone 1C product. ``stock=(price, num_in_stock)`` goes to its two stock
    records (default 1000 KZT, 10 pieces; ``stock=False``: no offer yet), ``categories``
    to its groups, ``article`` to the ``article`` attribute, ``with_image=True`` adds a picture.
    """

    class Meta:
        model = Product
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Товар {n}")
    description = ""
    code = factory.LazyFunction(onec_id)
    structure = Product.STANDALONE
    is_public = True
    product_class = factory.SubFactory(ProductClassFactory)

    @factory.post_generation
    def categories(product, create, extracted, **kwargs):
        for category in extracted or ():
            product.categories.add(category)

    @factory.post_generation
    def stock(product, create, extracted, **kwargs):
        if extracted is False or product.is_parent:
            return
        price, num_in_stock = extracted or (Decimal("1000.00"), 10)
        set_stock(product, price, num_in_stock)

    @factory.post_generation
    def article(product, create, extracted, **kwargs):
        if extracted:
            set_text_attribute(product, "article", "Артикул", extracted)

    @factory.post_generation
    def with_image(product, create, extracted, **kwargs):
        if extracted:
            add_image(product)


class ParentProductFactory(ProductFactory):
    """A 1C product with characteristics: a parent, sold through its variants."""

    structure = Product.PARENT


class ChildProductFactory(ProductFactory):
    """A variant of ``parent``: code "product#characteristic", no class or categories of its own."""

    title = factory.Sequence(lambda n: f"Вариант {n}")
    structure = Product.CHILD
    product_class = None
    parent = factory.SubFactory(ParentProductFactory)
    code = factory.LazyAttribute(lambda child: f"{child.parent.code}#{onec_id()}")


def set_stock(product, price, num_in_stock, warehouse=None):
    """Write the product's offer as the 1C import does: a warehouse record and the sales record."""
    offer_id = product.code
    records = []
    for partner in (warehouse or PartnerFactory(), sales_partner()):
        record, _ = StockRecord.objects.update_or_create(
            partner=partner,
            partner_sku=offer_id,
            defaults={
                "product": product,
                "price": price,
                "price_currency": "KZT",
                "num_in_stock": num_in_stock,
            },
        )
        records.append(record)
    return records


def set_text_attribute(product, code, name, value):
    """Give ``product`` the text attribute ``code`` (created on its class like the import's requisites)."""
    attribute, _ = ProductAttribute.objects.get_or_create(
        product_class=product.get_product_class(), code=code, defaults={"name": name, "type": "text"}
    )
    ProductAttributeValue.objects.update_or_create(
        product=product, attribute=attribute, defaults={"value_text": value}
    )


# A 1x1 transparent PNG.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def add_image(product):
    from django.core.files.base import ContentFile

    image = ProductImage(product=product, code=f"{product.code}|{uuid.uuid4().hex[:20]}", display_order=0)
    image.original.save(f"{product.code}.png", ContentFile(PNG_BYTES), save=False)
    image.save()
    return image
