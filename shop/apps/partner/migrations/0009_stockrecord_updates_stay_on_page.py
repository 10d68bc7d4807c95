"""
Stock records: no index on ``date_updated`` and a tenth of every page kept free, so
that the updates a 1C package makes (new quantities, prices) stay on their page as
HOT updates and write no index entries (see ``shop.apps.partner.models.StockRecord``).
The free space applies to pages written from now on (a full import, a VACUUM FULL).
"""

from django.db import migrations, models


def keep_room_for_updates(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE partner_stockrecord SET (fillfactor = 90)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE partner_stockrecord RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ('partner', '0008_pickup_points'),
    ]

    operations = [
        migrations.AlterField(
            model_name='stockrecord',
            name='date_updated',
            field=models.DateTimeField(auto_now=True, verbose_name='Date updated'),
        ),
        migrations.RunPython(keep_room_for_updates, fill_pages),
    ]
