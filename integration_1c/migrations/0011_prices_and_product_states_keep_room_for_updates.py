"""
A fifth of every page of prices and products' 1C state kept free, so that a package of
changes updates them in place (HOT updates: no index entry written). One transaction
cannot reclaim the old versions of rows it updated itself, so a page needs room for
every row a package changes on it: without it, a package of 10,000 offers on a
100,000-product catalogue updated its prices and its product stamps through every
index (390 of 46,527 price updates were HOT; with the room, all of them). The free space
applies to pages written from now on (an import, a VACUUM FULL).
"""

from django.db import migrations

TABLES = ("integration_1c_productprice", "integration_1c_productexchange")


def keep_room_for_updates(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = 80)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ('integration_1c', '0010_prices_and_product_states_without_constraints'),
    ]

    operations = [
        migrations.RunPython(keep_room_for_updates, fill_pages),
    ]
