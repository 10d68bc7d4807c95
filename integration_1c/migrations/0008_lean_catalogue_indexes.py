"""
Oscar's catalogue tables without the indexes nothing reads, which every 1C import paid for.

A 100,000-product catalogue has about a million attribute values, and Oscar indexes
eleven columns of that table: every value 1C writes went into every one of them. Measured
on the benchmark's rows, inserting values into the table with its eleven indexes took
2.2 times as long as with the four kept here. Dropped:

* attribute values: ``attribute_id`` (the unique (attribute, product) index starts with
  it), ``entity_content_type_id`` (generic relations, unused), and the five
  ``value_boolean`` / ``value_date`` / ``value_datetime`` / ``value_float`` /
  ``value_integer`` indexes — a value alone, without its attribute, finds nothing a shop
  asks for; the storefront filters through its listing rows (``shop.apps.search``);
* products: ``priority`` and ``is_public`` (the storefront lists through its listing
  rows; a boolean index is never chosen for a column that is true for nearly all rows)
  and the ``LIKE`` copies (``varchar_pattern_ops``) of ``code``, ``upc`` and ``slug``,
  which only prefix searches use; the plain and unique indexes stay;
* images: ``display_order`` and the ``LIKE`` copy of ``code``;
* product categories: ``product_id`` (the unique (product, category) index starts with it).

The catalogue app is Oscar's own (not forked), so this migration belongs to the app whose
writes the indexes slowed down. Migrating backwards puts every index back.
"""

from django.db import migrations

#: (model, column, which): "all" drops every plain (non-unique) index of the column,
#: "like" only PostgreSQL's pattern-matching copy.
DROPPED = [
    ("ProductAttributeValue", "attribute_id", "all"),
    ("ProductAttributeValue", "entity_content_type_id", "all"),
    ("ProductAttributeValue", "value_boolean", "all"),
    ("ProductAttributeValue", "value_date", "all"),
    ("ProductAttributeValue", "value_datetime", "all"),
    ("ProductAttributeValue", "value_float", "all"),
    ("ProductAttributeValue", "value_integer", "all"),
    ("Product", "priority", "all"),
    ("Product", "is_public", "all"),
    ("Product", "code", "like"),
    ("Product", "upc", "like"),
    ("Product", "slug", "like"),
    ("ProductImage", "display_order", "all"),
    ("ProductImage", "code", "like"),
    ("ProductCategory", "product_id", "all"),
]


def _names(schema_editor, table, column, which):
    """The names Django gave these indexes (``_like`` is the pattern-matching copy)."""
    plain = schema_editor._create_index_name(table, [column])
    like = schema_editor._create_index_name(table, [column], suffix="_like")
    return [like] if which == "like" else [plain, like]


def drop_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for model_name, column, which in DROPPED:
        table = apps.get_model("catalogue", model_name)._meta.db_table
        for name in _names(schema_editor, table, column, which):
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")


def restore_indexes(apps, schema_editor):
    for model_name, column, which in DROPPED:
        model = apps.get_model("catalogue", model_name)
        field = next(field for field in model._meta.concrete_fields if field.column == column)
        if which == "all":
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
        like_sql = getattr(schema_editor, "_create_like_index_sql", None)  # PostgreSQL only
        like = like_sql(model, field) if like_sql is not None else None
        if like is not None:
            schema_editor.execute(like)


class Migration(migrations.Migration):

    dependencies = [
        ("catalogue", "0032_category_exclude_from_menu_category_long_description"),
        ("integration_1c", "0007_exchange_file_session_index"),
    ]

    operations = [migrations.RunPython(drop_indexes, restore_indexes)]
