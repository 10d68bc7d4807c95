import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Django's default hasher takes a good part of a second per password; tests need no strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
