"""
``manage.py setup_shop``: make a freshly migrated database a working shop.

Idempotent: run it after every deploy (``make run`` and the Docker image do). It only
creates what is missing and updates names; it never resets a password a person changed.

Environment:
  SITE_DOMAIN (127.0.0.1:8000)       domain of the site, used in links of emails
  SHOP_ADMIN_USER / SHOP_ADMIN_EMAIL / SHOP_ADMIN_PASSWORD  (admin / admin@example.com / admin)
  ONEC_EXCHANGE_USER / ONEC_EXCHANGE_PASSWORD                ("1c" / "1c-exchange")
  SHOP_SHIPPING_COUNTRIES (KZ)       ISO codes of the countries the shop delivers to

``--demo`` (``make run``): the demo shop's name, phone, address, hours and e-mail, where
neither the admin nor the environment gives one (see :func:`setup_demo_identity`).
"""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from oscar.core.loading import get_model

from integration_1c import conf
from shop.apps.checkout.payment import PAYMENT_METHODS
from shop.identity import get_shop_identity

Partner = get_model("partner", "Partner")
Country = get_model("address", "Country")

#: Countries the shop may deliver to: ISO alpha-2 -> (alpha-3, numeric, name, official name).
COUNTRIES = {
    "KZ": ("KAZ", "398", "Казахстан", "Республика Казахстан"),
    "RU": ("RUS", "643", "Россия", "Российская Федерация"),
    "KG": ("KGZ", "417", "Киргизия", "Кыргызская Республика"),
    "UZ": ("UZB", "860", "Узбекистан", "Республика Узбекистан"),
    "BY": ("BLR", "112", "Беларусь", "Республика Беларусь"),
    "AM": ("ARM", "051", "Армения", "Республика Армения"),
    "TJ": ("TJK", "762", "Таджикистан", "Республика Таджикистан"),
}

#: The demo shop's identity (``setup_shop --demo``): the name of the demo catalogue's owner
#: (``generate_exchange --demo``), a phone, address, hours and e-mail, so that the header
#: and the footer look like a real shop's. Not for production: ``--demo`` only.
DEMO_IDENTITY = {
    "SHOP_NAME": "Торговый дом",
    "SHOP_PHONE": "+7 727 355-00-11",
    "SHOP_ADDRESS": "Алматы, пр. Абая, 150",
    "SHOP_HOURS": "Пн–Пт 9:00–20:00, Сб–Вс 10:00–18:00",
    "SHOP_EMAIL": "zakaz@example.com",
}


def env(name, default):
    return os.environ.get(name) or default


def setup_site():
    """
    The Site of SITE_ID: its domain is used for absolute links (emails, order links); its
    name is the shop's as the admin says now (e-mails take the current name themselves).
    """
    site, _ = Site.objects.update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": env("SITE_DOMAIN", "127.0.0.1:8000"), "name": get_shop_identity().name},
    )
    return site


def ensure_user(username, email, password, **flags):
    """
    The user ``username``, created with ``password`` if missing. An existing user keeps
    their password (a person may have changed it); ``flags`` are (re)applied.
    Returns (user, the password to show: ``password`` while it is still the user's, else None).
    """
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=email)
        user.set_password(password)
    for name, value in flags.items():
        setattr(user, name, value)
    user.save()
    return user, password if user.check_password(password) else None


def setup_admin():
    """The shop's first administrator (Django admin and Oscar's dashboard)."""
    return ensure_user(
        env("SHOP_ADMIN_USER", "admin"),
        env("SHOP_ADMIN_EMAIL", "admin@example.com"),
        env("SHOP_ADMIN_PASSWORD", "admin"),
        is_staff=True,
        is_superuser=True,
        is_active=True,
    )


def setup_exchange_user():
    """The account 1C signs in with (HTTP basic auth); it may only exchange (``integration_1c.exchange_1c``)."""
    username = env("ONEC_EXCHANGE_USER", "1c")
    user, password = ensure_user(
        username, f"{username}@exchange.invalid", env("ONEC_EXCHANGE_PASSWORD", "1c-exchange"), is_active=True
    )
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="integration_1c", codename="exchange_1c")
    )
    return user, password


def setup_sales_partner():
    """The partner whose stock records the shop sells from (see integration_1c's stock service)."""
    partner, _ = Partner.objects.update_or_create(
        code=conf.get("ONEC_SALES_PARTNER_CODE"), defaults={"name": conf.get("ONEC_SALES_PARTNER_NAME")}
    )
    return partner


def setup_countries():
    """Countries from SHOP_SHIPPING_COUNTRIES become shipping countries (with one, checkout does not ask)."""
    codes = [code.strip().upper() for code in env("SHOP_SHIPPING_COUNTRIES", "KZ").split(",") if code.strip()]
    unknown = [code for code in codes if code not in COUNTRIES and not Country.objects.filter(pk=code).exists()]
    if unknown:
        raise ValueError(f"SHOP_SHIPPING_COUNTRIES: unknown country codes {', '.join(unknown)}")
    for code, (alpha3, numeric, printable_name, name) in COUNTRIES.items():
        Country.objects.get_or_create(
            iso_3166_1_a2=code,
            defaults={
                "iso_3166_1_a3": alpha3,
                "iso_3166_1_numeric": numeric,
                "printable_name": printable_name,
                "name": name,
                "is_shipping_country": False,
            },
        )
    Country.objects.exclude(iso_3166_1_a2__in=codes).update(is_shipping_country=False)
    Country.objects.filter(iso_3166_1_a2__in=codes).update(is_shipping_country=True)
    return codes


def setup_payment_methods():
    """The payment SourceTypes orders are recorded with (shop.apps.checkout.payment)."""
    return [method.source_type() for method in PAYMENT_METHODS]


def setup_demo_identity():
    """
    Save the demo identity's values in the admin's settings, each only where the owner has
    said nothing: never saved in the admin (an owner who emptied a field saved it empty,
    and that stays) and not given in the environment. Returns the keys it filled.
    """
    from constance import config

    stored = config._backend.mget(list(DEMO_IDENTITY))
    filled = []
    for key, value in DEMO_IDENTITY.items():
        if key in stored or os.environ.get(key):
            continue
        setattr(config, key, value)
        filled.append(key)
    return filled


def exchange_path():
    """The clean path of the 1C exchange (integration_1c.urls), or None when it is not served."""
    try:
        return reverse("onec_exchange")
    except NoReverseMatch:
        return None


class Command(BaseCommand):
    help = "Create or update the site, the administrator, the 1C exchange user, the sales partner and countries."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Give the shop the demo's name, phone, address, hours and e-mail where none is set.",
        )

    def handle(self, *args, **options):
        with transaction.atomic():
            if options["demo"]:
                setup_demo_identity()
            site = setup_site()
            admin, admin_password = setup_admin()
            exchange_user, exchange_password = setup_exchange_user()
            partner = setup_sales_partner()
            countries = setup_countries()
            setup_payment_methods()

        scheme = "https" if settings.SECURE_SSL_REDIRECT else "http"
        base = f"{scheme}://{site.domain}"
        path = exchange_path()
        kept = "(password changed since; not shown)"
        self.stdout.write(self.style.SUCCESS(f"Shop ready: {site.name}"))
        self.stdout.write(f"  Shop:        {base}/")
        self.stdout.write(f"  Dashboard:   {base}/dashboard/")
        self.stdout.write(f"  Admin:       {base}/admin/")
        self.stdout.write(f"  Administrator: {admin.username} / {admin_password or kept} (email {admin.email})")
        if path:
            self.stdout.write(f"  1C exchange URL (put it in 1C): {base}{path}")
        else:
            self.stdout.write("  1C exchange URL: not served (integration_1c has no exchange URL)")
        self.stdout.write(f"  1C user:     {exchange_user.username} / {exchange_password or kept}")
        self.stdout.write(f"  Sales partner: {partner.name} (code {partner.code}); delivery to {', '.join(countries)}")
