"""
Prices and products' 1C state without indexes the import paid for and nothing reads: a
price's product alone (the unique (product, price type) index starts with it) and the
products' ``touched_at`` stamps (every file stamps every product it writes; see
``ProductExchange``).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0032_category_exclude_from_menu_category_long_description'),
        ('integration_1c', '0008_lean_catalogue_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='productexchange',
            name='onec_product_cat_touched',
        ),
        migrations.AlterField(
            model_name='productexchange',
            name='touched_at',
            field=models.DateTimeField(verbose_name='Last written by 1C'),
        ),
        migrations.AlterField(
            model_name='productprice',
            name='product',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='onec_prices', to='catalogue.product', verbose_name='Product'),
        ),
    ]
