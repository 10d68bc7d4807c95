"""
Identifiers (article, barcode, 1C code, UPC) move from ``ProductFacet`` rows onto the
listing row as one list (a GIN-indexed array on PostgreSQL): two thirds of the facet rows
and their two B-tree indexes were identifiers, written again by every exchange. Existing
values are carried over.
"""

import shop.apps.search.fields
from django.db import migrations, models

COPY_POSTGRESQL = """
UPDATE search_productlisting l SET identifiers = i.values
FROM (SELECT product_id, array_agg(DISTINCT value ORDER BY value) AS values
      FROM search_productfacet WHERE kind = 'i' GROUP BY product_id) i
WHERE i.product_id = l.product_id
"""


def copy_identifiers(apps, schema_editor):
    ProductFacet = apps.get_model("search", "ProductFacet")
    ProductListing = apps.get_model("search", "ProductListing")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COPY_POSTGRESQL)
        schema_editor.execute("CREATE INDEX search_listing_identifiers ON search_productlisting USING gin (identifiers)")
    else:
        values = {}
        for product_id, value in ProductFacet.objects.filter(kind="i").values_list("product_id", "value"):
            values.setdefault(product_id, set()).add(value)
        for listing in ProductListing.objects.filter(product_id__in=list(values)):
            listing.identifiers = sorted(values[listing.product_id])
            listing.save(update_fields=["identifiers"])
    ProductFacet.objects.filter(kind="i").delete()


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_listing_identifiers")



class Migration(migrations.Migration):

    dependencies = [
        ('search', '0003_listing_rows'),
    ]

    operations = [
        migrations.AddField(
            model_name='productlisting',
            name='identifiers',
            field=shop.apps.search.fields.ListField(item_type='text', verbose_name='Identifiers'),
        ),
        migrations.AlterField(
            model_name='productfacet',
            name='kind',
            field=models.CharField(choices=[('n', 'Number')], max_length=1),
        ),
        migrations.RunPython(copy_identifiers, drop_index),
    ]
