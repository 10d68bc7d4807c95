"""django-axes (exchange login throttling, see ``protocol/auth.py``) under a name the admin shows in Russian."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class LoginLockoutsConfig(AxesAppConfig):
    verbose_name = _("Login lockouts")
