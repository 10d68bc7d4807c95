from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Integration1CConfig(AppConfig):
    name = "integration_1c"
    verbose_name = _("1C exchange")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from . import journal_tasks, receivers  # noqa: F401  (receivers; the journal's beat task)
