"""
The indexes of Oscar's tables the 1C import writes into: the ones nothing reads are gone
(migrations ``integration_1c`` 0008 and 0012), the ones the shop reads by are there.
"""

import pytest
from django.db import connection
from django.test import Client
from oscar.core.loading import get_model

from tests.factories import ProductClassFactory

from .builders import Product

pytestmark = pytest.mark.django_db

ProductExchange = get_model("integration_1c", "ProductExchange")
ExchangeFile = get_model("integration_1c", "ExchangeFile")


def indexed_columns(model):
    """The column lists of the table's indexes."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {tuple(spec["columns"]) for spec in constraints.values() if spec["index"] or spec["unique"]}


def test_nothing_reads_products_by_slug_and_its_index_is_gone():
    by_columns = indexed_columns(Product)
    assert ("slug",) not in by_columns
    assert {("code",), ("parent_id",), ("date_created",), ("date_updated",)} <= by_columns

    product = Product.objects.create(
        title="Дрель", slug="drel", code="p1", structure=Product.STANDALONE, product_class=ProductClassFactory()
    )
    path = product.get_absolute_url()
    assert path.endswith(f"drel_{product.pk}/")
    assert Client().get(path).status_code == 200  # found by its id; the slug is only compared


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's LIKE copies of text indexes")
@pytest.mark.parametrize(("model", "column"), [(ProductExchange, "catalogue"), (ExchangeFile, "catalogue_code")])
def test_1c_catalogue_codes_are_indexed_for_equality_only(model, column):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [model._meta.db_table])
        definitions = [row[0] for row in cursor.fetchall()]
    indexes = [definition for definition in definitions if f"({column}" in definition]
    assert len(indexes) == 1 and "pattern_ops" not in indexes[0]
