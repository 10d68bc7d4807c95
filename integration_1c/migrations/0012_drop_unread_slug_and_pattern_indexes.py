"""
Two more indexes nothing reads, which every 1C import paid for:

* Oscar's plain index on the product ``slug``: products are found by their id (the slug
  in a product's address is only checked against it, ``ProductDetailView``), and nothing
  in Oscar or the shop looks a product up by its slug. A full import writes a slug for
  every product and variant (174,000 for 100,000 products): measured on the benchmark's
  rows, 50,000 products were inserted in 0.94 s with it and 0.63 s without;
* the ``LIKE`` copies (``varchar_pattern_ops``) of the products' 1C catalogue
  (``ProductExchange.catalogue``, a row a product) and of the exchange journal's
  (``ExchangeFile.catalogue_code``, a row for each of an archive's 118,000 members),
  which are only ever compared whole; their plain indexes stay.

As in migration 0008, migrating backwards puts both back.
"""

from django.db import migrations


def _indexes(apps, schema_editor):
    """(model, field, Django's name of the index, whether it is the ``LIKE`` copy)."""
    product = apps.get_model("catalogue", "Product")
    slug = product._meta.get_field("slug")
    indexes = [(product, slug, schema_editor._create_index_name(product._meta.db_table, [slug.column]), False)]
    for model_name, field_name in (("ProductExchange", "catalogue"), ("ExchangeFile", "catalogue_code")):
        model = apps.get_model("integration_1c", model_name)
        field = model._meta.get_field(field_name)
        name = schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="_like")
        indexes.append((model, field, name, True))
    return indexes


def drop_indexes(apps, schema_editor):
    for _model, _field, name, _like in _indexes(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def restore_indexes(apps, schema_editor):
    for model, field, _name, like in _indexes(apps, schema_editor):
        if not like:
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
            continue
        like_sql = getattr(schema_editor, "_create_like_index_sql", None)  # PostgreSQL only
        statement = like_sql(model, field) if like_sql is not None else None
        if statement is not None:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("catalogue", "0032_category_exclude_from_menu_category_long_description"),
        ("integration_1c", "0011_prices_and_product_states_keep_room_for_updates"),
    ]

    operations = [migrations.RunPython(drop_indexes, restore_indexes)]
