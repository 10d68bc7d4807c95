"""
Every 1C text and yes/no property gets its filter setting, off (only reference properties,
characteristics and numbers had one, so a manager could never make «Материал» a filter).
New properties get theirs from the refresh (``indexing.ensure_filter_settings``).
"""

from django.db import migrations


def add_settings(apps, schema_editor):
    ProductAttribute = apps.get_model("catalogue", "ProductAttribute")
    FilterSetting = apps.get_model("search", "FilterSetting")
    missing = (
        ProductAttribute.objects.filter(type__in=["text", "boolean"], code__startswith="p_", filter_setting__isnull=True)
        .values_list("pk", flat=True)
    )
    FilterSetting.objects.bulk_create(
        [FilterSetting(attribute_id=pk, is_filterable=False) for pk in missing], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [("search", "0005_search_words"), ("catalogue", "0032_category_exclude_from_menu_category_long_description")]

    operations = [migrations.RunPython(add_settings, migrations.RunPython.noop)]
