"""Oscar's customer forms; the login form's error names the field it asks for."""

from django.utils.translation import gettext_lazy as _
from oscar.apps.customer import forms as oscar_forms


class EmailAuthenticationForm(oscar_forms.EmailAuthenticationForm):
    """
    Oscar's e-mail login. Django's wrong-login error fills in the user model's
    «имя пользователя», a field this form does not have («Пожалуйста, введите правильные
    имя пользователя и пароль» under an «E-mail» field): this one speaks of the e-mail.
    """

    error_messages = {
        **oscar_forms.EmailAuthenticationForm.error_messages,
        "invalid_login": _("Wrong e-mail or password. Note that the password is case-sensitive."),
    }
