"""
Pictures left packed in 1C's archive (read in place, recognised by the size and CRC-32
of the archive's directory) give exactly the catalogue that pictures sent one by one,
stored on disk and hashed, give: the same rows for the same files, on the first
exchange, on a repeat, and when 1C replaces a picture.
"""

import pytest
from django.test import Client
from oscar.core.loading import get_model

from integration_1c.management.commands.bench_exchange import purge_onec_catalogue
from integration_1c.models import ExchangeFile, ImageFingerprint
from integration_1c.protocol import archives
from integration_1c.testing.emulator import DjangoClientTransport, OneCClient
from integration_1c.testing.generator import generate_exchange
from tests.conftest import EXCHANGE_PASSWORD as PASSWORD

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def one_c(user):
    return OneCClient(DjangoClientTransport(Client()), user.username, PASSWORD, poll_interval=0.05, timeout=120)


def catalogue():
    """The catalogue by 1C codes (ids differ between two imports of the same files)."""
    return {
        "products": sorted(
            Product.objects.values_list("code", "title", "slug", "is_public", "structure", "parent__code")
        ),
        "images": sorted(
            ProductImage.objects.values_list("product__code", "code", "caption", "display_order", "original")
        ),
        "stock": sorted(
            StockRecord.objects.values_list("partner_sku", "partner__code", "num_in_stock", "price")
        ),
    }


def replace_a_picture(package):
    """1C sends a new photo under the same file name."""
    path = package.dir / package.images[0]
    path.write_bytes(path.read_bytes() + b"\x00")


def exchange_three_times(user, package):
    """First exchange, the same again, then with one picture replaced: the catalogue after each."""
    states = []
    for step in ("first", "repeat", "replaced"):
        if step == "replaced":
            replace_a_picture(package)
        assert one_c(user).exchange_catalog(package).ok
        states.append(catalogue())
    return states


def test_packed_pictures_give_the_catalogue_that_unpacked_ones_give(tmp_path, settings, exchange_user, celery_worker, monkeypatch):
    settings.ONEC_USE_ZIP = False
    straight = exchange_three_times(
        exchange_user, generate_exchange(tmp_path / "plain", products=40, seed=11)
    )
    assert straight[0]["images"] and straight[0] == straight[1] and straight[1] != straight[2]
    assert not ImageFingerprint.objects.exists()  # pictures on disk: nothing to recognise them by
    purge_onec_catalogue()
    assert not ProductImage.objects.exists()

    settings.ONEC_USE_ZIP = True
    reads = []
    original = archives.read_packed

    def counting(raw, packed):
        reads.append(packed)
        return original(raw, packed)

    monkeypatch.setattr("integration_1c.services.images.read_packed", counting)
    package = generate_exchange(tmp_path / "zipped", products=40, seed=11)
    first = []
    for step in ("first", "repeat", "replaced"):
        if step == "replaced":
            replace_a_picture(package)
        reads.clear()
        assert one_c(exchange_user).exchange_catalog(package).ok
        first.append((catalogue(), len(reads)))
        archive = ExchangeFile.objects.filter(kind="archive").latest("pk")
        assert archive.packed_members == len(package.images)  # not unpacked: listed in the archive's index

    assert [state for state, _reads in first] == straight
    pictures = len(straight[0]["images"])
    assert first[0][1] >= pictures  # every picture was read on the first exchange…
    assert first[1][1] == 0  # …none on the repeat: the archive's directory said they were known
    assert first[2][1] == 1  # only the replaced one afterwards
    assert ImageFingerprint.objects.count() == ProductImage.objects.count()
