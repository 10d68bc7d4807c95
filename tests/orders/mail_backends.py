"""Mail backends for the status-email tests: a server that fails, then maybe recovers."""

from smtplib import SMTPServerDisconnected

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class FlakyBackend(BaseEmailBackend):
    """Fails the first ``failures`` sends with an SMTP error, then delivers to mail.outbox."""

    failures = 1
    attempts = 0

    def send_messages(self, email_messages):
        cls = type(self)
        cls.attempts += 1
        if cls.attempts <= cls.failures:
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        mail.outbox.extend(email_messages)
        return len(email_messages)
