"""Background work of the listing rows (see :mod:`.indexing`)."""

from celery import shared_task

from . import indexing


@shared_task(name="shop.apps.search.tasks.refresh_filter_attribute", ignore_result=True)
def refresh_filter_attribute(attribute_id):
    """
    A manager switched a text or yes/no property on or off as a filter: the rows of its
    products gain or lose its values (tens of thousands of products take a while, so not
    in the admin's request).
    """
    return indexing.refresh_attribute(attribute_id)


@shared_task(name="shop.apps.search.tasks.count_whole_listing", ignore_result=True)
def count_whole_listing():
    """
    The listing rows changed: count the filter values of all products again for «Все
    товары» (a pass over every row), which shows the previous counts meanwhile.
    """
    from . import selectors

    selectors.count_whole_listing()
