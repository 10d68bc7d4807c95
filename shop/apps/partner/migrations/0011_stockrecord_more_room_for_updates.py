"""
A quarter of every stock-record page kept free (a tenth before, see 0009): one
transaction cannot reclaim the old versions of the rows it updated itself, so a page
needs room for every record a package of changes updates on it — a quantity per
warehouse and the sales record of each offer. With a tenth, half of the updates of a
package of 10,000 offers on a 100,000-product catalogue went through every index;
with a quarter, all of them stay on their page.
"""

from django.db import migrations


def more_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE partner_stockrecord SET (fillfactor = 75)")


def less_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE partner_stockrecord SET (fillfactor = 90)")


class Migration(migrations.Migration):

    dependencies = [
        ('partner', '0010_stockrecord_partner_not_indexed_alone'),
    ]

    operations = [
        migrations.RunPython(more_room, less_room),
    ]
