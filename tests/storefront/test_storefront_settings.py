"""
Settings come from the environment: production values pass ``check --deploy``, DEBUG off
refuses to start without SECRET_KEY, and the shop's defaults (ru, KZT, Asia/Almaty).

Each case runs ``manage.py`` in a subprocess with a clean environment, as a server would.
"""

import json
import os
import subprocess
import sys

from tests.conftest import REPO_DIR

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "x9Qv7" * 12,
    "ALLOWED_HOSTS": "shop.example.kz",
    "DATABASE_URL": "postgres://shop:secret@db.internal:5432/shop",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:p4ss@smtp.example.kz:587",
}


def manage(*args, tmp_path, **environment):
    """Run ``manage.py`` with only ``environment`` (and what a process needs to start) set."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "SHOP_VAR_DIR": str(tmp_path / "var"),
        **environment,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_debug_off_without_secret_key_stops_with_a_message(tmp_path):
    environment = {name: value for name, value in PRODUCTION.items() if name != "SECRET_KEY"}
    result = manage("check", tmp_path=tmp_path, **environment)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({name: str(getattr(settings, name)) for name in (
    "DEBUG", "LANGUAGE_CODE", "LANGUAGES", "TIME_ZONE", "OSCAR_DEFAULT_CURRENCY", "EMAIL_BACKEND",
    "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS", "CELERY_TASK_ALWAYS_EAGER",
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "ALLOWED_HOSTS")}))
"""


def read_settings(tmp_path, **environment):
    result = manage("shell", "-c", PRINT_SETTINGS, tmp_path=tmp_path, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_and_values_from_the_environment(tmp_path):
    embedded = read_settings(tmp_path)
    assert embedded["DEBUG"] == "True"
    assert embedded["LANGUAGE_CODE"] == "ru" and "'en'" in embedded["LANGUAGES"]
    assert embedded["TIME_ZONE"] == "Asia/Almaty"
    assert embedded["OSCAR_DEFAULT_CURRENCY"] == "KZT"
    assert embedded["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert embedded["CELERY_TASK_ALWAYS_EAGER"] == "True"  # no broker: tasks in-process

    production = read_settings(tmp_path, SHOP_CURRENCY="RUB", **PRODUCTION)
    assert production["DEBUG"] == "False"
    assert production["OSCAR_DEFAULT_CURRENCY"] == "RUB"
    assert production["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert production["EMAIL_HOST"] == "smtp.example.kz" and production["EMAIL_PORT"] == "587"
    assert production["EMAIL_HOST_USER"] == "mailer" and production["EMAIL_USE_TLS"] == "True"
    assert production["CELERY_TASK_ALWAYS_EAGER"] == "False"  # the broker is Redis
    assert production["SECURE_SSL_REDIRECT"] == "True" and production["SESSION_COOKIE_SECURE"] == "True"
    assert production["ALLOWED_HOSTS"] == "['shop.example.kz']"
