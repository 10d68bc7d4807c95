"""Pictures from the exchange upload into ProductImage: added, unchanged, replaced, missing."""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from PIL import Image as PILImage

from integration_1c.commerceml import records as rec
from integration_1c.services.images import DirectoryImageSource, StorageImageSource

from .builders import Product, ProductImage, apply, product

pytestmark = pytest.mark.django_db


def picture(path, color):
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4), color).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())


def media_files():
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*.png")) if root.exists() else []


@pytest.fixture
def upload(tmp_path):
    folder = tmp_path / "upload"
    picture(folder / "import_files" / "ab" / "front.png", "red")
    picture(folder / "import_files" / "ab" / "side.png", "blue")
    return folder


def shoe(*paths, caption=""):
    return product("p1", name="Ботинки", images=[rec.Image(path=path, caption=caption) for path in paths])


def test_pictures_are_copied_into_product_images(upload):
    apply(
        shoe("import_files/ab/front.png", "import_files\\ab\\side.png", caption="Вид"),
        images=DirectoryImageSource(upload),
    )

    images = list(Product.objects.get(code="p1").images.all())
    assert [image.display_order for image in images] == [0, 1]
    assert all(image.code.startswith("p1|") and len(image.code) == 3 + 20 for image in images)
    assert images[0].caption == "Вид"
    assert len(media_files()) == 2
    assert images[0].original.read()[:4] == b"\x89PNG"


def test_unchanged_pictures_are_not_copied_again(upload):
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png"), images=source)
    before = list(ProductImage.objects.values_list("id", "code", "original"))

    apply(shoe("import_files/ab/front.png"), images=source)

    assert list(ProductImage.objects.values_list("id", "code", "original")) == before
    assert len(media_files()) == 1


def test_changed_picture_replaces_the_old_one(upload, django_capture_on_commit_callbacks):
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png", "import_files/ab/side.png"), images=source)
    old = ProductImage.objects.get(display_order=0)
    old_file = Path(django_settings.MEDIA_ROOT) / old.original.name
    picture(upload / "import_files" / "ab" / "front.png", "green")

    with django_capture_on_commit_callbacks(execute=True):
        apply(shoe("import_files/ab/front.png", "import_files/ab/side.png"), images=source)

    images = list(ProductImage.objects.all())
    assert len(images) == 2
    assert old.pk not in [image.pk for image in images]
    assert not old_file.exists()
    assert len(media_files()) == 2


def test_a_picture_no_longer_listed_is_removed(upload):
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png", "import_files/ab/side.png"), images=source)
    apply(shoe("import_files/ab/side.png"), images=source)
    image = ProductImage.objects.get()
    assert image.display_order == 0
    assert image.original.read() == (upload / "import_files" / "ab" / "side.png").read_bytes()


def test_missing_file_warns_and_keeps_what_the_product_has(upload):
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png"), images=source)
    report = apply(shoe("import_files/ab/gone.png"), images=source)

    assert any("картинка import_files/ab/gone.png не найдена" in warning for warning in report.warnings)
    assert ProductImage.objects.count() == 1


def test_paths_outside_the_upload_are_refused(upload, tmp_path):
    picture(tmp_path / "secret.png", "black")
    report = apply(shoe("../secret.png", "/etc/passwd"), images=DirectoryImageSource(upload))
    assert ProductImage.objects.count() == 0
    assert len(report.warnings) == 2


def test_images_a_manager_added_stay(upload):
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png"), images=source)
    manual = ProductImage.objects.get()
    ProductImage.objects.filter(pk=manual.pk).update(code=None)

    apply(shoe("import_files/ab/side.png"), images=source)

    assert ProductImage.objects.filter(pk=manual.pk).exists()
    assert ProductImage.objects.count() == 2


def test_pictures_from_the_exchange_storage():
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    storage = storages["exchange"]
    buffer = io.BytesIO()
    PILImage.new("RGB", (2, 2), "red").save(buffer, "PNG")
    storage.save("session-1/import_files/x/pic.png", ContentFile(buffer.getvalue()))

    apply(shoe("import_files/x/pic.png"), images=StorageImageSource(storage, "session-1"))

    assert ProductImage.objects.count() == 1
