"""
Oscar's ``Dispatcher``, speaking for the shop as the owner set it in the admin.

Every e-mail the shop sends goes through it: Oscar's own (registration, password reset
and change, e-mail change, product alerts, order placed, through ``CustomerDispatcher``,
``AlertsDispatcher`` and ``OrderDispatcher``) and ours (the order status e-mail,
``integration_1c.services.notifications``). Oscar finds this class with
``get_class("communication.utils", "Dispatcher")``.

Two things differ from Oscar's:

* the base context of every message carries the shop's identity from the admin
  (``shop_identity``, ``shop_name``, and ``site`` named as the shop: see
  :func:`shop.identity.email_context`), which the templates' signature shows;
* messages go out from the shop's name at ``DEFAULT_FROM_EMAIL`` with a ``Reply-To`` of
  the contact e-mail from the admin (:func:`shop.identity.email_sender`,
  :func:`~shop.identity.email_reply_to`): a customer who answers an order e-mail writes
  to the shop, not to the envelope address.
"""

from django.core.mail import EmailMessage, EmailMultiAlternatives
from oscar.apps.communication import utils

from shop.identity import email_context, email_reply_to, email_sender, get_shop_identity


class Dispatcher(utils.Dispatcher):
    def get_base_context(self, **kwargs):
        context = super().get_base_context(**kwargs)
        context.update(email_context(context["site"]))
        return context

    def send_email_messages(self, recipient_email, messages, from_email=None, attachments=None):
        """
        Oscar's, with the shop's sender and Reply-To (Oscar's builds the message inside
        and gives no way to add a header to it).
        """
        identity = get_shop_identity()
        content_attachments, file_attachments = self.prepare_attachments(attachments)
        options = {
            "from_email": from_email or email_sender(identity),
            "to": [recipient_email],
            "reply_to": email_reply_to(identity),
            "attachments": content_attachments,
        }
        if messages["html"]:
            email = EmailMultiAlternatives(messages["subject"], messages["body"], **options)
            email.attach_alternative(messages["html"], "text/html")
        else:
            email = EmailMessage(messages["subject"], messages["body"], **options)
        for attachment in file_attachments:
            email.attach_file(attachment)

        self.logger.info("Sending email to %s", recipient_email)
        if self.mail_connection:
            self.mail_connection.send_messages([email])
        else:
            email.send()
        return email
