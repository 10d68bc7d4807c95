"""
What keeps the listing rows current (wired in ``apps.py``).

The 1C import writes in bulk (no model signals) and says what it wrote with
``integration_1c.signals.catalogue_changed``, once per file; a product saved one at a
time — in the dashboard, the admin, or a test factory — sends Django's model signals;
a placed order changes availability and popularity.
"""

from . import indexing, pending


def catalogue_import_started(sender, size=None, **kwargs):
    """A 1C file is about to be written: a big one has the GIN pending lists merged beside it."""
    pending.start(size)


def catalogue_changed(sender, since, full=True, stock_written=None, defer=False, **kwargs):
    """
    A 1C file was applied: refresh what it wrote, in its transaction (a full package: and
    sweep) — or, when another file of the exchange follows (``defer``), leave the
    refresh to that file's (``indexing.defer_refresh``).
    """
    pending.finish()
    if defer:
        indexing.defer_refresh(since, full=full)
    else:
        indexing.refresh_changed_since(since, full=full, stock_written=stock_written)


def deferred_work_due(sender, serialised, left_before=None, **kwargs):
    """No 1C file made the refresh a catalogue file left to the file after it: it is due."""
    if indexing.owes(left_before):
        with serialised():
            indexing.pay_debts(left_before)


def product_saved(sender, instance, **kwargs):
    """A product saved or deleted on its own: its row (a variant's: its parent's)."""
    if kwargs.get("raw"):
        return
    product_ids = {instance.pk}
    if getattr(instance, "parent_id", None):
        product_ids.add(instance.parent_id)
    if kwargs.get("signal_name") == "post_delete":
        product_ids.discard(instance.pk)
    indexing.schedule_refresh(product_ids)


def product_row_saved(sender, instance, **kwargs):
    """A stock record, attribute value or category link saved or deleted: its product's row."""
    if kwargs.get("raw") or not instance.product_id:
        return
    indexing.schedule_refresh([instance.product_id])


def product_categories_changed(sender, instance, action, pk_set, model, **kwargs):
    """``product.categories.add(…)`` and the like (ProductCategory's m2m_changed)."""
    if not action.startswith("post_"):
        return
    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    if isinstance(instance, Product):
        indexing.schedule_refresh([instance.pk])
    elif pk_set:
        indexing.schedule_refresh(pk_set)


def order_placed(sender, order, **kwargs):
    """An order allocated stock and counts as purchases: the rows of its products."""
    product_ids = [pk for pk in order.lines.values_list("product_id", flat=True) if pk]
    if product_ids:
        indexing.schedule_refresh(product_ids)


def order_status_changed(sender, order, **kwargs):
    """A cancelled order's stock is for sale again (``integration_1c.services.stock``): the rows of its products."""
    product_ids = [pk for pk in order.lines.values_list("product_id", flat=True) if pk]
    if product_ids:
        indexing.schedule_refresh(product_ids)


def filter_setting_saved(sender, instance, **kwargs):
    """
    A manager switched a text or yes/no property on or off as a filter: the rows of its
    products gain or lose its values, in the background once the change commits.
    """
    if kwargs.get("raw") or not instance.changes_listing_values():
        return
    from shop import background

    from .tasks import refresh_filter_attribute

    background.enqueue(refresh_filter_attribute, instance.attribute_id)
    instance._stored_is_filterable = instance.is_filterable
