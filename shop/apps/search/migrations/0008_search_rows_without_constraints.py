"""
The search tables' rows point at their product without a foreign-key constraint in the
database: they are derived data, deleted by Django's collector with their product and
rebuilt by ``rebuild_search_index``, and the constraint's check cost every imported
file's listing refresh one look-up of the product per row written (see ``models``).

Only PostgreSQL's constraints are dropped: SQLite cannot drop one without rebuilding the
table, and the embedded demo's few hundred rows gain nothing from it, so they keep their
checks there.
"""

import django.db.models.deletion
from django.db import migrations, models

MODELS = ["productdocument", "productfacet", "productlisting"]


def _fields(apps, model_name):
    """The model and its ``product`` field with the constraint, then without it."""
    model = apps.get_model("search", model_name)
    given = model._meta.get_field("product")
    fields = []
    for db_constraint in (True, False):
        field = given.clone()
        field.remote_field.model = given.remote_field.model  # the clone names it; the editor needs the class
        field.db_constraint = db_constraint
        field.set_attributes_from_name("product")
        field.model = model
        fields.append(field)
    return model, *fields


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in MODELS:
        model, constrained, free = _fields(apps, name)
        schema_editor.alter_field(model, constrained, free)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in MODELS:
        model, constrained, free = _fields(apps, name)
        schema_editor.alter_field(model, free, constrained)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0032_category_exclude_from_menu_category_long_description"),
        ("search", "0007_listing_in_stock_first"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AlterField(
                    model_name="productdocument",
                    name="product",
                    field=models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="catalogue.product",
                        verbose_name="Product",
                    ),
                ),
                migrations.AlterField(
                    model_name="productfacet",
                    name="product",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="search_facets",
                        to="catalogue.product",
                    ),
                ),
                migrations.AlterField(
                    model_name="productlisting",
                    name="product",
                    field=models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="listing",
                        serialize=False,
                        to="catalogue.product",
                        verbose_name="Product",
                    ),
                ),
            ],
        )
    ]
