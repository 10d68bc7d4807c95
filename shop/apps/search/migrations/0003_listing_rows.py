"""
The narrow listing row (``ProductListing``) beside the search document: what listing
pages sort, filter and count by moves off the document (whose text made every count
read the search text too), and a product's categories, property values and
warehouses move from ``ProductFacet`` rows into two lists on it (GIN-indexed arrays on
PostgreSQL). Existing rows are carried over, so no rebuild is needed after upgrading.
"""

import django.db.models.deletion
import shop.apps.search.fields
from django.db import migrations, models

COPY_POSTGRESQL = """
INSERT INTO search_productlisting (product_id, title, price, in_stock, date_created, popularity, categories, facets)
SELECT d.product_id, d.title, d.price, d.in_stock, d.date_created, d.popularity,
       coalesce((SELECT array_agg(DISTINCT f.key ORDER BY f.key) FROM search_productfacet f
                 WHERE f.product_id = d.product_id AND f.kind = 'g'), '{}'),
       coalesce((SELECT array_agg(DISTINCT CASE f.kind WHEN 'v' THEN 'v' || f.key || ':' || f.value ELSE 'w' || f.key END
                                  ORDER BY CASE f.kind WHEN 'v' THEN 'v' || f.key || ':' || f.value ELSE 'w' || f.key END)
                 FROM search_productfacet f WHERE f.product_id = d.product_id AND f.kind IN ('v', 'w')), '{}')
FROM search_productdocument d
"""


def copy_rows(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(COPY_POSTGRESQL)
        schema_editor.execute("CREATE INDEX search_listing_categories ON search_productlisting USING gin (categories)")
        schema_editor.execute("CREATE INDEX search_listing_facets ON search_productlisting USING gin (facets)")
    else:
        ProductDocument = apps.get_model("search", "ProductDocument")
        ProductFacet = apps.get_model("search", "ProductFacet")
        ProductListing = apps.get_model("search", "ProductListing")
        lists = {}
        for product_id, kind, key, value in ProductFacet.objects.filter(kind__in=["g", "v", "w"]).values_list(
            "product_id", "kind", "key", "value"
        ):
            categories, facets = lists.setdefault(product_id, (set(), set()))
            if kind == "g":
                categories.add(key)
            else:
                facets.add(f"v{key}:{value}" if kind == "v" else f"w{key}")
        ProductListing.objects.bulk_create(
            [
                ProductListing(
                    product_id=row["product_id"],
                    title=row["title"],
                    price=row["price"],
                    in_stock=row["in_stock"],
                    date_created=row["date_created"],
                    popularity=row["popularity"],
                    categories=sorted(lists.get(row["product_id"], ((), ()))[0]),
                    facets=sorted(lists.get(row["product_id"], ((), ()))[1]),
                )
                for row in ProductDocument.objects.values(
                    "product_id", "title", "price", "in_stock", "date_created", "popularity"
                ).iterator()
            ],
            batch_size=500,
        )
    ProductFacet = apps.get_model("search", "ProductFacet")
    ProductFacet.objects.filter(kind__in=["g", "v", "w"]).delete()


def drop_gin_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_listing_categories")
        schema_editor.execute("DROP INDEX IF EXISTS search_listing_facets")

class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0032_category_exclude_from_menu_category_long_description'),
        ('search', '0002_postgresql_search'),
    ]

    operations = [
        migrations.CreateModel(
            name='ProductListing',
            fields=[
                ('product', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='listing', serialize=False, to='catalogue.product', verbose_name='Product')),
                ('title', models.CharField(max_length=255, verbose_name='Title')),
                ('price', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='Price')),
                ('in_stock', models.BooleanField(default=False, verbose_name='In stock')),
                ('date_created', models.DateTimeField(verbose_name='Date created')),
                ('popularity', models.PositiveIntegerField(default=0, verbose_name='Popularity')),
                ('categories', shop.apps.search.fields.ListField(item_type='integer', verbose_name='Categories')),
                ('facets', shop.apps.search.fields.ListField(item_type='text', verbose_name='Filter values')),
            ],
            options={
                'verbose_name': 'Product listing row',
                'verbose_name_plural': 'Product listing rows',
            },
        ),
        migrations.RunPython(copy_rows, drop_gin_indexes),
        migrations.RemoveIndex(
            model_name='productdocument',
            name='search_doc_newest',
        ),
        migrations.RemoveIndex(
            model_name='productdocument',
            name='search_doc_price',
        ),
        migrations.RemoveIndex(
            model_name='productdocument',
            name='search_doc_popular',
        ),
        migrations.RemoveField(
            model_name='productdocument',
            name='date_created',
        ),
        migrations.RemoveField(
            model_name='productdocument',
            name='in_stock',
        ),
        migrations.RemoveField(
            model_name='productdocument',
            name='popularity',
        ),
        migrations.RemoveField(
            model_name='productdocument',
            name='price',
        ),
        migrations.AlterField(
            model_name='productfacet',
            name='kind',
            field=models.CharField(choices=[('n', 'Number'), ('i', 'Identifier')], max_length=1),
        ),
        migrations.AddIndex(
            model_name='productlisting',
            index=models.Index(fields=['-date_created', '-product'], name='search_listing_newest'),
        ),
        migrations.AddIndex(
            model_name='productlisting',
            index=models.Index(fields=['price', 'product'], name='search_listing_price'),
        ),
        migrations.AddIndex(
            model_name='productlisting',
            index=models.Index(fields=['-popularity', '-date_created', '-product'], name='search_listing_popular'),
        ),
    ]
