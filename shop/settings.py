"""
Settings of the shop, read from the environment (django-environ).

With no environment at all the shop runs in its *embedded default*: SQLite under
``var/``, tasks run inside the web process, mail printed to the console, DEBUG on.
Production sets ``DEBUG=false`` and at least ``SECRET_KEY``, ``DATABASE_URL``,
``REDIS_URL`` and ``ALLOWED_HOSTS``; every other value has a safe default.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from oscar.defaults import *  # noqa: F401,F403  (Oscar's defaults, overridden below)
from treebeard.deprecation import RemovedInTreebeard8Warning

# Oscar still calls treebeard's moved tree methods, and treebeard >= 6 warns on every
# call: silence that one deprecation so real warnings stay visible in the logs.
warnings.filterwarnings("ignore", category=RemovedInTreebeard8Warning)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SHOP_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# In development an unknown address shows Django's technical 404 (English, for the
# developer); the shop's own error pages are then at /errors/404/ and /errors/500/.
ERROR_PAGE_PREVIEWS = DEBUG

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(a long random string) to run with DEBUG off."
        )
    SECRET_KEY = "embedded-default-insecure-key-only-for-debug"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Database -------------------------------------------------------------------
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    )
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh clone has no var/ yet: SQLite creates the file, not its folder.
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The embedded database is shared by the web thread and the in-process task
    # threads; wait for a lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 30)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's planner costs a random page read at 4 sequential ones, a spinning disk's
    # ratio; a shop's catalogue lives in memory or on SSD, where PostgreSQL's own manual
    # suggests about 1.1. With 4, a search's filter counts read the whole listing table
    # (45 ms for 3,300 matches of 98,000) instead of its 3,300 rows by primary key (17 ms).
    # Empty: the server's own setting (for a pooler that refuses startup options).
    RANDOM_PAGE_COST = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
    if RANDOM_PAGE_COST:
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c random_page_cost={float(RANDOM_PAGE_COST)}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# --- Applications ---------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "shop.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "shop.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "shop.apps.communication.apps.CommunicationConfig",
    "shop.apps.partner.apps.PartnerConfig",
    "shop.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "shop.apps.order.apps.OrderConfig",
    "shop.apps.customer.apps.CustomerConfig",
    "shop.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "shop.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
    "constance",
    "integration_1c.lockouts.LoginLockoutsConfig",  # django-axes
    "shop",
    "integration_1c",
]

SITE_ID = 1

MIDDLEWARE = [
    # Outermost: the 1C exchange URL answers text whatever an inner middleware did.
    "integration_1c.middleware.ExchangeAnswerMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shop.middleware.ShopLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Oscar's basket middleware, except on the 1C exchange URL (no basket, no storefront strategy).
    "integration_1c.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
                "shop.context_processors.shop_identity",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)

# --- Login throttling (django-axes) for the 1C exchange: failures are counted per user
# name and client address; AXES_FAILURE_LIMIT of them lock that pair for
# AXES_COOLOFF_MINUTES, even for the right password. integration_1c.protocol.auth asks
# axes before checking a password; the admin lists lockouts («Блокировки входа» → attempts) and
# deleting one lifts it. Axes' backend and middleware are not installed: the storefront's
# and dashboard's logins keep Django's behaviour (failures are still recorded).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # 1C logs in every few minutes: successes are not worth a row each
AXES_CLIENT_IP_CALLABLE = "integration_1c.protocol.sessions.client_address"
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = ["axes.W002", "axes.W003"]  # no axes middleware/backend: see above

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Search: browse pages and search read the database (shop.apps.search), so
# Haystack's index is never needed; the simple backend keeps Oscar's imports happy.
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

# --- Language, time, money ------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
# The project's own strings (locale/), then the Russian of Oscar's storefront strings that
# Oscar's catalogue leaves untranslated (locale/oscar/, kept apart so makemessages never
# marks them obsolete): both before the apps' catalogues.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "oscar"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Almaty")
USE_I18N = True
USE_TZ = True

OSCAR_DEFAULT_CURRENCY = env.str("SHOP_CURRENCY", default="KZT")
OSCAR_CURRENCY_FORMAT = {
    # Tenge as Kazakh shops write it: "12 990 ₸" (tiyn only when there are any).
    "KZT": {"format": "#,##0.##\u00a0₸", "currency_digits": False},
    "RUB": {"format": "#,##0.00 ¤", "format_type": "standard"},
}
OSCAR_SHOP_NAME = env.str("SHOP_NAME", default="Магазин")
OSCAR_SHOP_TAGLINE = env.str("SHOP_TAGLINE", default="")
OSCAR_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shop@example.com")
DEFAULT_FROM_EMAIL = OSCAR_FROM_EMAIL
SERVER_EMAIL = OSCAR_FROM_EMAIL
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_SLUG_FUNCTION = "shop.utils.transliterate_slugify"
OSCAR_PRODUCTS_PER_PAGE = 24
OSCAR_HOMEPAGE = reverse_lazy("home")  # the front page (shop.apps.search.views.HomeView)
OSCAR_REQUIRED_ADDRESS_FIELDS = ("first_name", "last_name", "line1", "line4", "country")
OSCAR_THUMBNAILER = "shop.thumbnails.Thumbnailer"
# No wish lists: nothing on the storefront adds to one. Hides Oscar's wish-list links;
# their addresses lead to the account (shop/urls.py).
OSCAR_HIDDEN_FEATURES = ["wishlists"]
# sorl's store, remembered per web process: a page of cards asks it twice per card.
THUMBNAIL_KVSTORE = "shop.thumbnails.KVStore"

# Checkout (shop.apps.shipping.methods): courier delivery costs SHOP_DELIVERY_CHARGE and is
# free from a basket of SHOP_FREE_DELIVERY_FROM (0: never); pickup is free, at a pickup point
# (a 1C warehouse marked in the admin, see shop.apps.shipping.pickup).
SHOP_DELIVERY_CHARGE = env.str("SHOP_DELIVERY_CHARGE", default="1500")
SHOP_FREE_DELIVERY_FROM = env.str("SHOP_FREE_DELIVERY_FROM", default="30000")
# Phones at checkout are checked with phonenumbers and stored in E.164 (+77011234567);
# a number typed without a country code is read as one of SHOP_PHONE_REGION.
PHONENUMBER_DEFAULT_REGION = env.str("SHOP_PHONE_REGION", default="KZ")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"
# Order tracking for guests (number + email or phone): at most SHOP_ORDER_LOOKUP_ATTEMPTS
# failed look-ups per client address (and per order number) in SHOP_ORDER_LOOKUP_WINDOW seconds.
SHOP_ORDER_LOOKUP_ATTEMPTS = env.int("SHOP_ORDER_LOOKUP_ATTEMPTS", default=5)
SHOP_ORDER_LOOKUP_WINDOW = env.int("SHOP_ORDER_LOOKUP_WINDOW", default=15 * 60)
# Reverse proxies in front of the shop that append to X-Forwarded-For (nginx in the compose file: 1).
SHOP_PROXY_COUNT = env.int("SHOP_PROXY_COUNT", default=0)

# Order statuses: the shop's pipeline. 1C's status ids map onto these names
# (integration_1c's ONEC_ORDER_STATUS_MAP).
OSCAR_INITIAL_ORDER_STATUS = "Новый"
OSCAR_INITIAL_LINE_STATUS = "Новый"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Новый": ("Подтверждён", "Отменён"),
    "Подтверждён": ("Собирается", "Отправлен", "Отменён"),
    "Собирается": ("Отправлен", "Готов к выдаче", "Отменён"),
    "Отправлен": ("Доставлен", "Отменён"),
    "Готов к выдаче": ("Доставлен", "Отменён"),
    "Доставлен": (),
    "Отменён": (),
}
OSCAR_LINE_STATUS_PIPELINE = OSCAR_ORDER_STATUS_PIPELINE
OSCAR_ORDER_STATUS_CASCADE = {status: status for status in OSCAR_ORDER_STATUS_PIPELINE}

# The dashboard's menu: Oscar's, and the admin pages a manager needs, so that they are found
# from the dashboard: the listing filters under «Каталог», the shop's settings and the 1C
# exchange journal under «Настройки». shop/apps/dashboard/nav.py shows an admin entry to
# those the admin lets in.
OSCAR_DASHBOARD_DEFAULT_ACCESS_FUNCTION = "shop.apps.dashboard.nav.default_access_fn"
OSCAR_DASHBOARD_NAVIGATION = [dict(section) for section in OSCAR_DASHBOARD_NAVIGATION]  # noqa: F405
for _section in OSCAR_DASHBOARD_NAVIGATION:
    _children = _section.get("children", ())
    if any(child.get("url_name") == "dashboard:catalogue-product-list" for child in _children):
        _section["children"] = [
            *_section["children"],
            {"label": _("Filters"), "url_name": "admin:search_filtersetting_changelist"},
        ]
OSCAR_DASHBOARD_NAVIGATION.insert(
    len(OSCAR_DASHBOARD_NAVIGATION) - 1,  # before «Отчёты», Oscar's last entry
    {
        "label": _("Settings"),
        "icon": "fas fa-cog",
        "children": [
            {"label": _("Shop settings"), "url_name": "admin:constance_config_changelist"},
            {
                "label": _("1C exchange journal"),
                "url_name": "admin:integration_1c_exchangesession_changelist",
            },
        ],
    },
)

# --- Static and media -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development (DEBUG in the environment): whitenoise serves files straight from the
# finders (the app and project "static" folders), re-read on every request, so nothing has
# to be collected and there is no "No directory at: staticfiles" warning. Set from the
# environment's DEBUG because the test runner turns settings.DEBUG off. Production serves
# the collected, compressed STATIC_ROOT (collectstatic in the Docker image).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Exchange uploads: private, never served by the web server. In a cluster point
    # EXCHANGE_ROOT at shared storage (or swap the backend for an S3 one).
    "exchange": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("EXCHANGE_ROOT", default=str(VAR_DIR / "exchange"))},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Web processes move what they hold after their first request out of the garbage
# collector's sight (shop/memory.py): its full collections otherwise stall a request.
# A 1C import does the same for its duration in the worker and import_1c_folder.
GC_FREEZE = env.bool("GC_FREEZE", default=True)

# --- Cache, Celery --------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
# Embedded default: no broker configured -> tasks run inside this process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A task's message is acknowledged when the task ends, and given back to the broker when
# the worker process running it dies (kill -9, out of memory): nothing queued is lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged message to another worker after the visibility timeout:
# longer than the longest import (a 100,000-product catalogue takes minutes), shorter than
# the time 1C waits for a queued file (ONEC_QUEUE_TIMEOUT_SECONDS). A worker killed as a
# whole (no parent left to give the message back) is thus redelivered within it; the
# pipeline drops a delivery whose file was failed, re-sent or overtaken meanwhile.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=20 * 60),
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}
# A broker that is down must not hold an exchange call: fail fast, 1C is told why.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "exchange-cleanup": {
        "task": "integration_1c.tasks.cleanup_exchange_folders",
        "schedule": 6 * 60 * 60,
    },
    # The exchange journal: end exchanges whose files are done and that went quiet.
    "exchange-journal-close": {
        "task": "integration_1c.journal_tasks.close_finished_exchanges",
        "schedule": 60,
    },
}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="shop"),
            # A Redis that is down fails a call quickly instead of holding it.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Mail -----------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Security (safe by default when DEBUG is off) --------------------------------
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_SSL_REDIRECT_EXEMPT = [r"^1c/exchange/", r"^bitrix/admin/1c_exchange\.php"]
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "treebeard": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# --- 1C exchange (integration_1c/conf.py documents each) -------------------------
ONEC_PRICE_TYPE = env.str("ONEC_PRICE_TYPE", default="")
ONEC_OLD_PRICE_TYPE = env.str("ONEC_OLD_PRICE_TYPE", default="")
ONEC_FILE_LIMIT = env.int("ONEC_FILE_LIMIT", default=8 * 1024 * 1024)
ONEC_USE_ZIP = env.bool("ONEC_USE_ZIP", default=True)
ONEC_HIDE_MISSING_ON_FULL = env.bool("ONEC_HIDE_MISSING_ON_FULL", default=True)
ONEC_SELLING_WAREHOUSES = env.list("ONEC_SELLING_WAREHOUSES", default=[])
ONEC_LOW_STOCK_THRESHOLD = env.int("ONEC_LOW_STOCK_THRESHOLD", default=5)
ONEC_ORDER_ENCODING = env.str("ONEC_ORDER_ENCODING", default="utf-8")
ONEC_ORDER_EXPORT_FROM_STATUS = env.str("ONEC_ORDER_EXPORT_FROM_STATUS", default="")
ONEC_ORDER_STATUS_MAP = env.dict("ONEC_ORDER_STATUS_MAP", default={})
# shipped / paid / posted in 1C -> the shop's status (defaults in integration_1c.services.orders).
ONEC_ORDER_EVENT_STATUS_MAP = env.dict("ONEC_ORDER_EVENT_STATUS_MAP", default={})
ONEC_FULL_PACKAGE_MISSING = env.str(
    "ONEC_FULL_PACKAGE_MISSING", default="hide" if ONEC_HIDE_MISSING_ON_FULL else "keep"
)

# The shop's identity, shown in the header, the footer and e-mails.
SHOP_LOGO = env.str("SHOP_LOGO", default="")
SHOP_PHONE = env.str("SHOP_PHONE", default="")
SHOP_ADDRESS = env.str("SHOP_ADDRESS", default="")
SHOP_HOURS = env.str("SHOP_HOURS", default="")
SHOP_EMAIL = env.str("SHOP_EMAIL", default="")
SHOP_NAME = OSCAR_SHOP_NAME

# --- Settings the owner edits in the admin (django-constance) ---------------------
# Stored in the database; the environment variables above give the defaults. Read them
# through integration_1c.conf.get (1C settings) and shop.identity (the shop's identity):
# a value saved in the admin wins over the environment from the next request on.
CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"
CONSTANCE_SUPERUSER_ONLY = False
CONSTANCE_ADDITIONAL_FIELDS = {
    "full_package_missing": [
        "django.forms.ChoiceField",
        {
            "widget": "django.forms.Select",
            "choices": (
                ("hide", _("Hide them")),
                ("keep", _("Keep them as they are")),
                ("zero", _("Keep them, with no stock")),
            ),
        },
    ],
    "json_object": ["shop.forms.JSONObjectField", {"required": False}],
    "image": ["django.forms.ImageField", {"required": False}],
}
CONSTANCE_CONFIG = {
    "ONEC_PRICE_TYPE": (ONEC_PRICE_TYPE, _("Selling price type (its 1C name or Id); empty: the first type 1C sends"), str),
    "ONEC_OLD_PRICE_TYPE": (ONEC_OLD_PRICE_TYPE, _("Price type shown crossed out when it is higher (1C name or Id)"), str),
    "ONEC_SELLING_WAREHOUSES": (
        ",".join(ONEC_SELLING_WAREHOUSES),
        _("Warehouses the shop sells from (1C names or Ids, comma-separated); empty: all"),
        str,
    ),
    "ONEC_FULL_PACKAGE_MISSING": (
        ONEC_FULL_PACKAGE_MISSING,
        _("What a full package from 1C does to products of its catalogue it does not list"),
        "full_package_missing",
    ),
    "ONEC_ORDER_EXPORT_FROM_STATUS": (
        ONEC_ORDER_EXPORT_FROM_STATUS,
        _("Orders go to 1C from this status on; empty: as soon as they are placed"),
        str,
    ),
    "ONEC_ORDER_STATUS_MAP": (
        ONEC_ORDER_STATUS_MAP,
        _("1C order status (name or Id) to the shop's status, as a JSON object"),
        "json_object",
    ),
    "SHOP_NAME": (SHOP_NAME, _("Shop name"), str),
    "SHOP_LOGO": (SHOP_LOGO, _("Logo"), "image"),
    "SHOP_PHONE": (SHOP_PHONE, _("Phone"), str),
    "SHOP_ADDRESS": (SHOP_ADDRESS, _("Address"), str),
    "SHOP_HOURS": (SHOP_HOURS, _("Opening hours"), str),
    "SHOP_EMAIL": (SHOP_EMAIL, _("Contact e-mail"), str),
}
CONSTANCE_CONFIG_FIELDSETS = (
    (_("Shop"), ("SHOP_NAME", "SHOP_LOGO", "SHOP_PHONE", "SHOP_ADDRESS", "SHOP_HOURS", "SHOP_EMAIL")),
    (
        _("Exchange with 1C: catalogue"),
        ("ONEC_PRICE_TYPE", "ONEC_OLD_PRICE_TYPE", "ONEC_SELLING_WAREHOUSES", "ONEC_FULL_PACKAGE_MISSING"),
    ),
    (_("Exchange with 1C: orders"), ("ONEC_ORDER_EXPORT_FROM_STATUS", "ONEC_ORDER_STATUS_MAP")),
)

# Faults and hostile input (integration_1c/conf.py documents each).
ONEC_WORKER_LEASE_SECONDS = env.float("ONEC_WORKER_LEASE_SECONDS", default=120)
# The CPU priority the worker and `manage.py import_1c_folder` lower themselves by (nice),
# so that shoppers' pages stay fast while a catalogue is applied on the same machine.
ONEC_IMPORT_NICENESS = env.int("ONEC_IMPORT_NICENESS", default=10)
ONEC_QUEUE_TIMEOUT_SECONDS = env.float("ONEC_QUEUE_TIMEOUT_SECONDS", default=30 * 60)
ONEC_PROGRESS_WAIT_SECONDS = env.float("ONEC_PROGRESS_WAIT_SECONDS", default=0.5)
# A successful exchange login is remembered this many seconds (0: every login checks the password).
ONEC_LOGIN_CACHE_SECONDS = env.float("ONEC_LOGIN_CACHE_SECONDS", default=15 * 60)
ONEC_MAX_FILE_SIZE = env.int("ONEC_MAX_FILE_SIZE", default=8 * 1024**3)
ONEC_MAX_SESSION_UPLOAD = env.int("ONEC_MAX_SESSION_UPLOAD", default=24 * 1024**3)
ONEC_MAX_TEXT_NODE = env.int("ONEC_MAX_TEXT_NODE", default=1024 * 1024)
ONEC_FILE_LIMIT_MARGIN = env.int("ONEC_FILE_LIMIT_MARGIN", default=64 * 1024)
ONEC_MIN_FREE_DISK = env.int("ONEC_MIN_FREE_DISK", default=256 * 1024 * 1024)
