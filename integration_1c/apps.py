from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Integration1CConfig(AppConfig):
    name = "integration_1c"
    verbose_name = _("1C exchange")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from constance.signals import config_updated
        from django.core.signals import request_started

        from . import conf, journal_tasks, receivers  # noqa: F401  (journal_tasks: the journal's beat task)

        # A setting saved in the admin is effective at once in this process.
        config_updated.connect(conf.forget_stored_values, dispatch_uid="integration_1c.conf.forget")
        # Every request reads the settings afresh (once, however many it reads).
        request_started.connect(conf.forget_stored_values, dispatch_uid="integration_1c.conf.request")
