"""
Stock records: no index on the partner alone, which the unique (partner, partner_sku)
index already starts with (see ``shop.apps.partner.models.StockRecord``).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('partner', '0009_stockrecord_updates_stay_on_page'),
    ]

    operations = [
        migrations.AlterField(
            model_name='stockrecord',
            name='partner',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='stockrecords', to='partner.partner', verbose_name='Partner'),
        ),
    ]
