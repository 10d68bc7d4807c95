"""
Products a repeated catalogue leaves alone by the digest of their Товар
(``integration_1c.services.digests``) give exactly the catalogue writing them gives, and
whatever changed since — in the file, on the site, in the pictures — is written again.

Packages are imported from an archive, as 1C sends them: only there are the pictures'
sizes and CRC-32 known without reading them.
"""

import itertools
import re
import shutil
import zlib
from pathlib import Path

import pytest
from django.core.files.storage import storages
from oscar.core.loading import get_model

from integration_1c.models import ExchangeFile, ExchangeSession, ProductExchange
from integration_1c.protocol import pipeline
from integration_1c.services import importer
from integration_1c.services.catalogue import ProductWriter
from integration_1c.services.images import ImageWriter
from integration_1c.testing.emulator import build_archive
from integration_1c.testing.generator import generate_exchange

from .test_services_fast_paths import MODEL, WHEN, catalogue, empty_catalogue

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductImage = get_model("catalogue", "ProductImage")

_sessions = itertools.count(1)


@pytest.fixture
def package(tmp_path):
    return generate_exchange(tmp_path / "full", seed=7, images=True, generated_at=WHEN, **MODEL)


def import_archive(exchange, tmp_path):
    """Send the package as 1C does, zipped, and apply its files; their reports' warnings."""
    number = next(_sessions)
    zipped = build_archive(exchange.dir, exchange.files, tmp_path / f"v8_{number}.zip")
    folder = f"catalog/digests{number}"
    session = ExchangeSession.objects.create(exchange_type="catalog", token=f"digests{number}", folder=folder)
    storages["exchange"].save(f"{folder}/v8.zip", zipped.open("rb"))
    archive = ExchangeFile.objects.create(
        session=session, name="v8.zip", kind=pipeline.ARCHIVE, state=ExchangeFile.QUEUED, size=zipped.stat().st_size
    )
    pipeline.unpack_archive(archive.pk)
    warnings = []
    for path in exchange.files:
        exchange_file = ExchangeFile.objects.get(session=session, name=path.name)
        importer.apply_file(exchange_file.pk)
        exchange_file.refresh_from_db()
        assert (exchange_file.state, exchange_file.error) == (ExchangeFile.DONE, "")
        warnings.extend(exchange_file.warnings or [])
    return warnings


@pytest.fixture
def looked_at(monkeypatch):
    """The Товар codes whose categories, values and pictures the import looked at."""
    codes = {"categories": [], "values": [], "pictures": []}

    def spy(name, original):
        def wrapper(self, records, ids):
            codes[name].extend(record.id for record in records)
            return original(self, records, ids)

        return wrapper

    monkeypatch.setattr(ProductWriter, "_write_categories", spy("categories", ProductWriter._write_categories))
    monkeypatch.setattr(ProductWriter, "_write_attributes", spy("values", ProductWriter._write_attributes))
    monkeypatch.setattr(ImageWriter, "write", spy("pictures", ImageWriter.write))
    return codes


def forget(codes):
    for values in codes.values():
        values.clear()


def edited(exchange, tmp_path, replace):
    """A copy of ``exchange`` whose import.xml text went through ``replace``."""
    target = tmp_path / f"edited{next(_sessions)}"
    shutil.copytree(exchange.dir, target)
    catalogue_file = target / "import.xml"
    catalogue_file.write_text(replace(catalogue_file.read_text(encoding="utf-8")), encoding="utf-8")
    return type(exchange)(**{**exchange.__dict__, "dir": target, "files": [target / path.name for path in exchange.files]})


def onec_products():
    return Product.objects.filter(code__isnull=False, parent__isnull=True)


def test_a_repeated_catalogue_leaves_its_unchanged_products_alone(package, tmp_path, looked_at):
    import_archive(package, tmp_path)
    first = catalogue()
    products = onec_products().count()
    assert len(looked_at["values"]) == products
    assert ProductExchange.objects.exclude(digest="").count() == products

    forget(looked_at)
    import_archive(package, tmp_path)

    assert catalogue() == first
    assert looked_at == {"categories": [], "values": [], "pictures": []}
    assert ProductExchange.objects.exclude(digest="").count() == products


def test_products_changed_in_the_file_are_written_as_a_fresh_import_writes_them(package, tmp_path, looked_at):
    product = onec_products_in(package)[3]
    renamed_value = "Совсем другой материал"

    def change(text):
        # One product's text property: the rest as it was.
        head, sep, tail = text.partition(f"<Ид>{product}</Ид>")
        assert sep
        return head + sep + tail.replace("<Значение>Полиэстер</Значение>", f"<Значение>{renamed_value}</Значение>", 1)

    changed = edited(package, tmp_path, change)
    import_archive(changed, tmp_path)
    expected = catalogue()
    assert any(row[2] == renamed_value for row in expected["values"])
    empty_catalogue()

    import_archive(package, tmp_path)
    forget(looked_at)
    import_archive(changed, tmp_path)

    assert catalogue() == expected
    assert product in looked_at["values"]
    assert len(looked_at["values"]) < onec_products().count()


def onec_products_in(exchange):
    text = (exchange.dir / "import.xml").read_text(encoding="utf-8")
    products = text.partition("<Товары>")[2]
    return [
        re.search(r"<Ид>([^<]+)</Ид>", chunk).group(1)
        for chunk in products.split("<Товар>")[1:]
        if "<Значение>Полиэстер</Значение>" in chunk
    ]


def test_a_product_saved_on_the_site_since_is_made_as_1c_says_again(package, tmp_path, looked_at):
    import_archive(package, tmp_path)
    first = catalogue()
    value = ProductAttributeValue.objects.filter(
        product__code__isnull=False, product__parent__isnull=True, value_text__isnull=False
    ).first()
    value.value_text = "правка менеджера"
    value.save()
    value.product.save()  # what the dashboard's product form does with its attributes
    # A product a full package did not list is hidden by one UPDATE, without a new stamp.
    hidden = onec_products().filter(is_public=True).exclude(pk=value.product_id).first()
    Product.objects.filter(pk=hidden.pk).update(is_public=False)

    forget(looked_at)
    import_archive(package, tmp_path)

    assert catalogue() == first
    assert set(looked_at["values"]) == {value.product.code, hidden.code}


def test_a_picture_sent_with_new_bytes_under_its_old_name_is_placed_anew(package, tmp_path, looked_at):
    import_archive(package, tmp_path)
    image = ProductImage.objects.filter(product__code__isnull=False).select_related("product").first()
    relative = next(path for path in package.images if image.product.code.replace("-", "") in str(path))
    picture = package.dir / relative
    before = zlib.crc32(Path(image.original.path).read_bytes())
    changed = edited(package, tmp_path, lambda text: text)
    shutil.copyfile(package.dir / other_picture(package, relative), changed.dir / relative)

    forget(looked_at)
    import_archive(changed, tmp_path)

    assert looked_at["pictures"] == [image.product.code]
    placed = ProductImage.objects.get(product=image.product, display_order=0)
    assert zlib.crc32(Path(placed.original.path).read_bytes()) == zlib.crc32((changed.dir / relative).read_bytes())
    assert zlib.crc32((changed.dir / relative).read_bytes()) != before
    assert picture.read_bytes() != (changed.dir / relative).read_bytes()


def other_picture(exchange, relative):
    data = (exchange.dir / relative).read_bytes()
    return next(path for path in exchange.images if (exchange.dir / path).read_bytes() != data)


@pytest.mark.parametrize("by_process", [False, True], ids=["examined-here", "by-the-picture-process"])
def test_a_product_that_gave_a_warning_is_looked_at_and_warns_at_every_exchange(
    package, tmp_path, looked_at, monkeypatch, by_process
):
    """The picture process answers for a batch after the batch stored its digests: they are taken back."""
    monkeypatch.setattr(ImageWriter, "PROCESS_AFTER", 0 if by_process else 10**9)
    relative = package.images[0]
    broken = edited(package, tmp_path, lambda text: text)
    (broken.dir / relative).write_bytes(b"<html>not a picture</html>")

    first = import_archive(broken, tmp_path)
    forget(looked_at)
    again = import_archive(broken, tmp_path)

    assert [warning for warning in first if "не является изображением" in warning]
    assert [warning for warning in again if "не является изображением" in warning] == [
        warning for warning in first if "не является изображением" in warning
    ]
    assert len(looked_at["pictures"]) >= 1
