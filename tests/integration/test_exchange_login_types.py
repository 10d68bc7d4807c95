"""A 1C client that always logs in with type=sale and then exchanges the catalogue (issue 8)."""

import pytest
from django.test import Client
from oscar.core.loading import get_model

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.testing.emulator import DjangoClientTransport, OneCClient
from integration_1c.testing.generator import generate_exchange
from tests.conftest import EXCHANGE_PASSWORD

Product = get_model("catalogue", "Product")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_client_logging_in_with_type_sale_exchanges_the_catalogue(exchange_user, celery_worker, tmp_path):
    exchange = generate_exchange(tmp_path / "exchange", products=20, images=False)
    client = OneCClient(
        DjangoClientTransport(Client()), exchange_user.username, EXCHANGE_PASSWORD,
        login_type="sale", poll_interval=0.05, timeout=120,
    )  # fmt: skip

    result = client.exchange_catalog(exchange)

    assert result.ok, result.failures
    assert all(answer.status != "failure" for answer in result.answers)
    files = ExchangeFile.objects.all()
    assert files and all(f.state == ExchangeFile.DONE for f in files)
    assert {f.session.exchange_type for f in files} == {"catalog"}
    assert set(ExchangeSession.objects.values_list("exchange_type", flat=True)) == {"sale", "catalog"}
    assert Product.objects.filter(code__isnull=False).count() >= 20
