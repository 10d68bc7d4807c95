"""
The shop's identity (name, logo, phone, address, hours, e-mail) as the owner set it in the
admin (django-constance), the environment giving the defaults.

A selector, read once per request by ``shop.context_processors.shop_identity`` (lazily: a
page that shows none of it costs no query), and by e-mails (``shop.apps.communication``'s
``Dispatcher`` puts :func:`email_context` in every e-mail's context and sends from
:func:`email_sender`, answered to :func:`email_reply_to`).
"""

import copy
from dataclasses import dataclass
from email.errors import HeaderParseError, MessageError
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email

from integration_1c import conf

IDENTITY_KEYS = ("SHOP_NAME", "SHOP_LOGO", "SHOP_PHONE", "SHOP_ADDRESS", "SHOP_HOURS", "SHOP_EMAIL")


@dataclass(frozen=True)
class ShopIdentity:
    name: str
    logo: str
    phone: str
    address: str
    hours: str
    email: str

    @property
    def logo_url(self):
        """The logo's public URL (constance stores its path in the default storage)."""
        if not self.logo:
            return ""
        if self.logo.startswith(("http://", "https://", "/")):
            return self.logo
        return default_storage.url(self.logo)

    @property
    def phone_href(self):
        """``tel:`` link of the phone: digits and a leading plus only."""
        digits = "".join(ch for ch in self.phone if ch.isdigit())
        if not digits:
            return ""
        return "tel:+" + digits if self.phone.strip().startswith("+") else "tel:" + digits


def get_shop_identity():
    values = conf.get_many(IDENTITY_KEYS)
    return ShopIdentity(
        name=values["SHOP_NAME"] or settings.OSCAR_SHOP_NAME,
        logo=values["SHOP_LOGO"] or "",
        phone=values["SHOP_PHONE"] or "",
        address=values["SHOP_ADDRESS"] or "",
        hours=values["SHOP_HOURS"] or "",
        email=values["SHOP_EMAIL"] or "",
    )


def email_context(site, identity=None):
    """
    What every e-mail knows of the shop: ``shop_identity``, ``shop_name`` and ``site``.

    Oscar's e-mail templates name the shop by ``site.name``, the Site row that setup_shop
    writes from the environment, so a name saved in the admin never reached them. The
    ``site`` given here is a copy of ``site`` (its domain makes the links) named as the
    shop is now; the Site row itself is left alone.
    """
    identity = identity or get_shop_identity()
    named_site = copy.copy(site)
    named_site.name = identity.name
    return {"site": named_site, "shop_identity": identity, "shop_name": identity.name}


def email_sender(identity=None):
    """
    ``From`` of the shop's e-mails: the shop's name at ``DEFAULT_FROM_EMAIL``'s address,
    e.g. «Стройдом <shop@stroydom.kz>». The address stays the environment's: it is the one
    the mail server (SPF, DKIM) accepts mail from; the contact e-mail from the admin is
    the Reply-To (:func:`email_reply_to`).
    """
    identity = identity or get_shop_identity()
    _name, address = parseaddr(settings.OSCAR_FROM_EMAIL)
    if not address or not identity.name:
        return settings.OSCAR_FROM_EMAIL
    try:
        return str(Address(display_name=identity.name, addr_spec=address))
    except (HeaderParseError, MessageError, ValueError, IndexError):
        return settings.OSCAR_FROM_EMAIL


def email_reply_to(identity=None):
    """``Reply-To`` of the shop's e-mails: the contact e-mail set in the admin, if valid."""
    identity = identity or get_shop_identity()
    address = identity.email.strip()
    try:
        validate_email(address)
    except ValidationError:
        return []
    return [address]
