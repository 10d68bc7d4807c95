"""
The shop's identity (name, logo, phone, address, hours, e-mail) as the owner set it in the
admin (django-constance), the environment giving the defaults.

A selector, read once per request by ``shop.context_processors.shop_identity`` (lazily: a
page that shows none of it costs no query), and by e-mails.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage

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
