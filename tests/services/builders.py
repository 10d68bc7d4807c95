"""
Hand-built CommerceML records and helpers to apply them, for the services' tests.

Records are what the reader yields (``integration_1c.commerceml.records``); applying
them through :class:`~integration_1c.services.importer.RecordApplier` exercises the
same code path as a real file, without XML.
"""

from decimal import Decimal

from django.db import transaction
from oscar.core.loading import get_model

from integration_1c.commerceml import records as rec
from integration_1c.models import PriceType, ProductPrice
from integration_1c.services.context import ImportContext
from integration_1c.services.importer import RecordApplier
from integration_1c.services.report import ImportReport

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")


def apply(*records, kind=rec.CATALOGUE, changes_only=False, source="import.xml", **context):
    """Apply records as one file would be (one transaction); returns the report."""
    report = ImportReport(source=source)
    ctx = ImportContext(report, **context)
    with transaction.atomic():
        RecordApplier(ctx).apply([rec.Document(kind=kind, changes_only=changes_only), *records])
    return report


def offers_file(*records, changes_only=True, source="offers.xml", **context):
    return apply(*records, kind=rec.OFFERS, changes_only=changes_only, source=source, **context)


def product(pid, name=None, **fields):
    return rec.Product(id=pid, name=name if name is not None else f"Товар {pid}", **fields)


def offer(oid, *, prices=None, stocks=None, quantity=None, name="", **fields):
    product_id, _, characteristic = oid.partition("#")
    return rec.Offer(
        id=oid,
        product_id=product_id,
        characteristic_id=characteristic or None,
        name=name,
        prices=[rec.Price(price_type_id=t, value=Decimal(v)) for t, v in prices.items()]
        if prices is not None
        else None,
        stocks=[(w, Decimal(q)) for w, q in stocks.items()] if stocks is not None else None,
        quantity=Decimal(quantity) if quantity is not None else None,
        **fields,
    )


PRICE_TYPES = [
    rec.PriceType(id="retail", name="Розничная", currency="KZT"),
    rec.PriceType(id="opt", name="Оптовая"),
]
WAREHOUSES = [rec.Warehouse(id="wh-a", name="Склад А"), rec.Warehouse(id="wh-b", name="Склад Б")]


def attribute_values(code):
    """{attribute code: value} of a product, by 1C code."""
    values = {}
    for value in ProductAttributeValue.objects.filter(product__code=code).select_related(
        "attribute", "value_option"
    ):
        values[value.attribute.code] = value.value_option.option if value.value_option_id else value.value
    return values


def stock_of(sku):
    """{partner code: (num_in_stock, num_allocated, price)} of an offer's stock records."""
    return {
        record.partner.code: (record.num_in_stock, record.num_allocated, record.price)
        for record in StockRecord.objects.filter(partner_sku=sku).select_related("partner")
    }


def prices_of(code):
    return {
        price.price_type.code: price.price
        for price in ProductPrice.objects.filter(product__code=code).select_related("price_type")
    }


def snapshot(ids=True):
    """
    Every row the import writes as comparable tuples; with ``ids=False`` without each
    row's own id (rows deleted and written again compare equal).
    """
    tables = _tables()
    if ids:
        return tables
    return {name: sorted(row[1:] for row in rows) for name, rows in tables.items()}


def _tables():
    return {
        "products": sorted(
            Product.objects.values_list(
                "id",
                "code",
                "title",
                "slug",
                "description",
                "is_public",
                "structure",
                "parent_id",
                "product_class_id",
            )
        ),
        "categories": sorted(
            Category.objects.values_list(
                "id", "code", "name", "slug", "path", "depth", "numchild", "is_public", "ancestors_are_public"
            )
        ),
        "links": sorted(ProductCategory.objects.values_list("id", "product_id", "category_id")),
        "values": sorted(
            ProductAttributeValue.objects.values_list(
                "id",
                "product_id",
                "attribute_id",
                "value_text",
                "value_float",
                "value_boolean",
                "value_option_id",
            )
        ),
        "prices": sorted(
            ProductPrice.objects.values_list("id", "product_id", "price_type_id", "price", "currency")
        ),
        "price_types": sorted(PriceType.objects.values_list("id", "code", "name", "currency")),
        "stock": sorted(
            StockRecord.objects.values_list(
                "id",
                "product_id",
                "partner_id",
                "partner_sku",
                "num_in_stock",
                "num_allocated",
                "price",
                "price_currency",
            )
        ),
        "images": sorted(
            ProductImage.objects.values_list("id", "product_id", "code", "caption", "display_order")
        ),
    }
