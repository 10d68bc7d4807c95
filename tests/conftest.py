"""Fixtures shared by the whole suite. Tests run on PostgreSQL and Redis (see Makefile)."""

from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_DIR.parent / "shared"
SAMPLES_DIR = SHARED_DIR / "commerceml" / "samples"
SPEC_DIR = SHARED_DIR / "commerceml" / "spec"


@pytest.fixture
def samples_dir():
    """``../shared/commerceml/samples``: real 1C files, present in CI but not in a user's clone."""
    if not SAMPLES_DIR.is_dir():
        pytest.skip(f"real 1C samples not found at {SAMPLES_DIR} (../shared is absent in this checkout)")
    return SAMPLES_DIR


@pytest.fixture
def spec_dir():
    """``../shared/commerceml/spec``: the official XSDs."""
    if not SPEC_DIR.is_dir():
        pytest.skip(f"CommerceML XSDs not found at {SPEC_DIR} (../shared is absent in this checkout)")
    return SPEC_DIR


@pytest.fixture(autouse=True)
def _media_and_exchange_in_tmp(settings, tmp_path):
    """Every test writes media and exchange uploads to its own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    storages = dict(settings.STORAGES)
    storages["exchange"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "exchange")},
    }
    settings.STORAGES = storages


@pytest.fixture(autouse=True)
def _fresh_database_settings():
    """Settings saved in the database by one test (rolled back after it) never leak into the next."""
    from integration_1c import conf

    conf.forget_stored_values()
    yield
    conf.forget_stored_values()


@pytest.fixture(autouse=True)
def _no_listing_counts_of_another_test():
    """
    The whole listing's counts are kept across changes of the listing rows
    (``shop.apps.search.caching``, answered while they are counted again): one test's
    are not another's, whose catalogue is another.
    """
    from shop.apps.search import caching

    caching.forget_latest()


@pytest.fixture
def celery_worker(transactional_db, settings):
    """
    A real Celery worker of the shop's app, in a thread, on the Redis broker. Tests that
    use it see committed data only (transactional_db), as a production worker does. It
    runs in the test process, which must not lower its own priority for the rest of the
    suite (``ONEC_IMPORT_NICENESS``).
    """
    from celery.contrib.testing.worker import start_worker

    from shop.celery import app

    settings.ONEC_IMPORT_NICENESS = 0

    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


# --- 1C exchange users --------------------------------------------------------------
EXCHANGE_PASSWORD = "Obmen-1c-parol"


@pytest.fixture
def exchange_user(django_user_model):
    """A user 1C signs in with: holds the exchange permission and nothing else."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("obmen", "obmen@example.com", EXCHANGE_PASSWORD)
    user.user_permissions.add(
        Permission.objects.get(codename="exchange_1c", content_type__app_label="integration_1c")
    )
    return user


# --- Browser tests ------------------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")

#: Marks a browser test and skips it, with the reason, where Debian's chromium is absent.
requires_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Debian's chromium package"),
]


def launch_chromium(playwright):
    """Debian's chromium, headless, with the flags a closed network and a root user need."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
