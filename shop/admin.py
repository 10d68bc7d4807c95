"""
Admin names Oscar leaves without a translatable text: Django builds a plural «<name>s»
from the translated singular («Список желанийs»), a field without a verbose name is
named after the field («date placed»), a column without a description after its method
(«Attribute summary»). Set texts a translator can reach.

And the admin's frame: its header and the browser's title name the shop as the owner
set it in the admin («Стройдом — управление магазином»), not «Администрирование Django».
"""

import inspect

from django.contrib import admin
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from shop.identity import get_shop_identity

for model_name, plural in (
    ("WishList", _("Wish lists")),
    ("Line", _("Wish list lines")),
    ("WishListSharedEmail", _("Wish list shared emails")),
):
    get_model("wishlists", model_name)._meta.verbose_name_plural = plural

get_model("order", "Order")._meta.get_field("date_placed").verbose_name = _("Date placed")

# The search app's name is plain text (Oscar's app configs do the same): make it translatable.
from django.apps import apps  # noqa: E402

if apps.is_installed("shop.apps.search"):
    apps.get_app_config("search").verbose_name = _("Search")
get_model("order", "Order")._meta.get_field("shipping_code").verbose_name = _("Delivery method")


# Fields Oscar declares without a verbose name (the admin showed «stockrecord», «allocation cancelled»).
for (app_label, model_name), fields in {
    ("basket", "Line"): {"stockrecord": _("Stock record")},
    ("catalogue", "ProductAttributeValue"): {
        "value_file": _("File"), "value_image": _("Image"), "value_entity": _("Linked object"),
        "entity_content_type": _("Linked object type"), "entity_object_id": _("Linked object id"),
    },
    ("communication", "Notification"): {
        "recipient": _("Recipient"), "sender": _("Sender"), "subject": _("Subject"), "body": _("Text"),
        "location": _("Folder"), "date_sent": _("Date sent"), "date_read": _("Date read"),
    },
    ("customer", "ProductAlert"): {"product": _("Product")},
    ("offer", "ConditionalOffer"): {"combinations": _("Combines with offers")},
    ("order", "Line"): {"allocation_cancelled": _("Allocation cancelled")},
    ("order", "Order"): {"analytics_tracked": _("Counted in the analytics")},
    ("order", "OrderDiscount"): {"message": _("Message")},
    ("order", "PaymentEvent"): {"shipping_event": _("Shipping event")},
    ("reviews", "ProductReview"): {
        "product": _("Product"), "user": _("User"), "date_created": _("Date created"),
    },
    ("reviews", "Vote"): {"review": _("Review"), "user": _("User"), "date_created": _("Date created")},
    ("voucher", "Voucher"): {"voucher_set": _("Voucher set"), "date_created": _("Date created")},
    ("voucher", "VoucherApplication"): {"date_created": _("Date created")},
}.items():  # fmt: skip
    model = get_model(app_label, model_name)
    for field_name, verbose_name in fields.items():
        model._meta.get_field(field_name).verbose_name = verbose_name

# Columns of Oscar's admin lists that are model properties or methods without a description.
for (app_label, model_name), columns in {
    ("basket", "Basket"): {
        "num_lines": _("Lines"), "contains_a_voucher": _("With a voucher"),
        "time_before_submit": _("Time to order"),
    },
    ("catalogue", "AttributeOptionGroup"): {"option_summary": _("Options")},
    ("catalogue", "Product"): {"attribute_summary": _("Attributes")},
    ("order", "OrderDiscount"): {"offer": _("Offer"), "voucher": _("Voucher")},
    ("order", "PaymentEvent"): {"num_affected_lines": _("Lines")},
    ("payment", "Bankcard"): {"expiry_month": _("Expires")},
    ("payment", "Source"): {"balance": _("Balance")},
}.items():  # fmt: skip
    model = get_model(app_label, model_name)
    for name, description in columns.items():
        attribute = inspect.getattr_static(model, name)
        function = attribute.fget if isinstance(attribute, property) else attribute
        function.short_description = description
get_model("basket", "Basket").contains_a_voucher.fget.boolean = True  # a tick, not «False»
get_model("catalogue", "ProductAttributeValue").value.fget.short_description = _("Value")

# Oscar's and django-axes' admin classes with headings in plain English.
for model, fieldset_names in (
    (get_model("voucher", "Voucher"), {"Benefit": _("Benefit"), "Usage": _("Usage")}),
    (get_model("offer", "ConditionalOffer"), {"Usage": _("Usage")}),
):
    model_admin = admin.site._registry.get(model)
    if model_admin is not None:
        model_admin.fieldsets = tuple(
            (fieldset_names.get(name, name), options) for name, options in model_admin.fieldsets
        )
if apps.is_installed("axes"):
    from axes.admin import AccessAttemptAdmin

    AccessAttemptAdmin.status.short_description = _("Status")


def admin_title():
    """«<the shop's name> — управление магазином», read when a page is drawn (the name may change)."""
    return gettext("%(shop)s — shop management") % {"shop": get_shop_identity().name}


admin.site.site_header = admin.site.site_title = lazy(admin_title, str)()
