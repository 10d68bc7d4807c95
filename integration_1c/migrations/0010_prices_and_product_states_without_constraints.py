"""
Prices and products' 1C state without database constraints: the import writes them for
products and types it has just read, and Django's cascade removes them with their product
or type (see ``ProductPrice``); PostgreSQL's check of each row at the commit was a tenth of a
first import's commit.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0032_category_exclude_from_menu_category_long_description'),
        ('integration_1c', '0009_lean_price_and_product_state_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='productexchange',
            name='product',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='onec', serialize=False, to='catalogue.product'),
        ),
        migrations.AlterField(
            model_name='productprice',
            name='price_type',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='prices', to='integration_1c.pricetype', verbose_name='Price type'),
        ),
        migrations.AlterField(
            model_name='productprice',
            name='product',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='onec_prices', to='catalogue.product', verbose_name='Product'),
        ),
    ]
