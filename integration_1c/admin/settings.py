"""
Admin: the settings the owner edits (django-constance) and the log of their changes.

Constance's page is kept (its form, its storage, its «История» of admin saves); ours adds
Russian names for every setting (the help text becomes the setting's name, the key stays
in small print for support), and a log that records every change with its old and new
value, who made it and when (:class:`~integration_1c.models.SettingChange`). The log is
written from constance's ``config_updated`` signal, so a change made from a shell or a
script is recorded too (without a user).
"""

import contextvars
import json

from constance.admin import Config, ConstanceAdmin
from constance.signals import config_updated
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.dispatch import receiver
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from integration_1c.models import PriceType, SettingChange

#: The user saving the settings page, for the ``config_updated`` receiver.
_editing_user = contextvars.ContextVar("integration_1c_settings_user", default=None)

#: How many recent changes the settings page lists under the form.
RECENT_CHANGES = 10


#: What each setting does, in the owner's words (shown under its name).
SETTING_HELP = {
    "ONEC_PRICE_TYPE": _(
        "The price shoppers pay. Type the price type exactly as it is called in 1C (or its Id)."
    ),
    "ONEC_OLD_PRICE_TYPE": _(
        "Shown crossed out next to the selling price when it is higher, e.g. the price before a discount."
    ),
    "ONEC_SELLING_WAREHOUSES": _(
        "The shop sells what is in stock in these warehouses; stock of the others is not offered to shoppers."
    ),
    "ONEC_FULL_PACKAGE_MISSING": _(
        "When 1C sends the whole catalogue (not only changes), the products it leaves out are hidden, "
        "kept as they are, or kept with no stock."
    ),
    "ONEC_ORDER_EXPORT_FROM_STATUS": _(
        "E.g. «Подтверждён»: the call centre confirms an order before 1C receives it."
    ),
    "ONEC_ORDER_STATUS_MAP": _(
        "When 1C reports a status, the order gets the shop's status given here, e.g. "
        "{\"Отгружен\": \"Отправлен\", \"Закрыт\": \"Доставлен\"}."
    ),
    "SHOP_NAME": _("In the header, the page titles and the e-mails."),
    "SHOP_LOGO": _("A picture for the header (PNG, JPEG or SVG)."),
    "SHOP_PHONE": _("In the header, the footer and the e-mails' signature, e.g. +7 727 355-00-11."),
    "SHOP_ADDRESS": _("In the footer and the e-mails."),
    "SHOP_HOURS": _("In the footer and the e-mails' signature, e.g. «Пн–Пт 9:00–19:00»."),
    "SHOP_EMAIL": _(
        "Where shoppers can write to: in the footer and the e-mails' signature, and customers' "
        "replies to the shop's e-mails go there."
    ),
}

#: Settings whose help lists the price types 1C has sent.
PRICE_TYPE_SETTINGS = ("ONEC_PRICE_TYPE", "ONEC_OLD_PRICE_TYPE")


class ShopSettingsAdmin(ConstanceAdmin):
    change_list_template = "integration_1c/admin/settings_change_list.html"

    def get_config_value(self, name, options, form, initial):
        value = super().get_config_value(name, options, form, initial)
        explanation = SETTING_HELP.get(name, "")
        if name in PRICE_TYPE_SETTINGS:
            known = ", ".join(f"«{name}»" for name in PriceType.objects.values_list("name", flat=True)[:20])
            if known:
                explanation = format_lazy("{} {} {}", explanation, _("Price types from 1C:"), known)
        value["explanation"] = explanation
        choices = dict(getattr(form[name].field, "choices", None) or ())
        if choices and value["default"] in choices:
            value["default"] = choices[value["default"]]  # «Скрыть их», not «hide»
        return value

    def _log_config_change(self, request, changed_fields):
        """
        The entry of the admin's «Последние действия» for a save of this page. Constance
        writes one named «Config» under its model-less content type, which the admin shows
        as «Config» twice; this one names the page and the kind of change in Russian and
        links nowhere (the settings' own log, :class:`SettingChange`, keeps what changed).
        """
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(SettingChange).pk,
            object_id="",
            object_repr=str(_("Shop settings")),
            action_flag=CHANGE,
            change_message=json.dumps([{"changed": {"fields": changed_fields}}]),
        )

    def changelist_view(self, request, extra_context=None):
        user = request.user if request.user.is_authenticated else None
        token = _editing_user.set(user)
        try:
            context = {
                "recent_changes": SettingChange.objects.select_related("user")[:RECENT_CHANGES],
                **(extra_context or {}),
            }
            return super().changelist_view(request, context)
        finally:
            _editing_user.reset(token)


admin.site.unregister([Config])
admin.site.register([Config], ShopSettingsAdmin)


def _text(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@receiver(config_updated, dispatch_uid="integration_1c.admin.settings.log_change")
def log_setting_change(sender, key, old_value, new_value, **kwargs):
    if _text(old_value) == _text(new_value):
        return
    SettingChange.objects.create(
        key=key, old_value=_text(old_value), new_value=_text(new_value), user=_editing_user.get()
    )


def setting_label(key):
    """The Russian name of a setting (its constance help text), or the key."""
    options = getattr(settings, "CONSTANCE_CONFIG", {}).get(key)
    return _(options[1]) if options and len(options) > 1 else key


@admin.register(SettingChange)
class SettingChangeAdmin(admin.ModelAdmin):
    """Who changed which setting, from what to what, and when: read-only."""

    list_display = ("changed_at", "setting", "old_value", "new_value", "user")
    list_filter = ("key", ("changed_at", admin.DateFieldListFilter))
    search_fields = ("key", "old_value", "new_value", "user__username", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "changed_at"
    fields = readonly_fields = ("setting", "key", "old_value", "new_value", "user", "changed_at")

    @admin.display(description=_("Setting"), ordering="key")
    def setting(self, obj):
        return setting_label(obj.key)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
