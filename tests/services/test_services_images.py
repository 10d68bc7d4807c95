"""Pictures from the exchange upload into ProductImage: added, unchanged, replaced, missing."""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from PIL import Image as PILImage

from integration_1c.commerceml import records as rec
from integration_1c.services.images import DirectoryImageSource, StorageImageSource

from tests.processes import child_pids

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


def test_links_out_of_the_upload_are_refused_and_links_within_it_followed(upload, tmp_path):
    picture(tmp_path / "outside" / "secret.png", "black")
    (upload / "import_files" / "ab" / "secret.png").symlink_to(tmp_path / "outside" / "secret.png")
    (upload / "import_files" / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (upload / "import_files" / "ab" / "alias.png").symlink_to(upload / "import_files" / "ab" / "side.png")
    (upload / "import_files" / "ab" / "folder.png").mkdir()
    source = DirectoryImageSource(upload)
    report = apply(
        shoe(
            "import_files/ab/secret.png",
            "import_files/out/secret.png",
            "import_files/ab/folder.png",
            "import_files/ab/alias.png",
            "import_files/ab/front.png",
        ),
        images=source,
    )
    assert len(report.warnings) == 3
    assert all("не найдена" in warning for warning in report.warnings)
    originals = [image.original.read() for image in ProductImage.objects.order_by("display_order")]
    assert originals == [
        (upload / "import_files" / "ab" / "side.png").read_bytes(),
        (upload / "import_files" / "ab" / "front.png").read_bytes(),
    ]


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


def _packed_session(pictures, *, damage=None, indexed=True):
    """
    A session whose archive holds ``pictures`` (name -> bytes), left packed as the
    unpacking leaves them: in the archive's index, or (``indexed=False``) in a journal
    row each, as an archive unpacked before the index was.
    """
    import zipfile

    from django.contrib.auth import get_user_model

    from integration_1c.models import ExchangeFile, ExchangeSession
    from integration_1c.protocol import archives, pipeline, uploads

    user = get_user_model().objects.create(username="onec-packed")
    session = ExchangeSession.objects.create(
        user=user, exchange_type="catalog", token="packed", folder="catalog/packed-session"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in pictures.items():
            archive.writestr(name, content)
    folder = uploads.UploadFolder(session.folder)
    folder.write("v8.zip", io.BytesIO(buffer.getvalue()))
    limits = archives.Limits(max_total=10**9, max_members=100, max_ratio=10**6)
    members = archives.extract(folder, "v8.zip", limits, leave_packed=pipeline.leave_packed)
    if damage is not None:  # the archive replaced under the import
        folder.write("v8.zip", io.BytesIO(damage))
    if indexed:
        archive = ExchangeFile.objects.create(session=session, name="v8.zip", kind=pipeline.ARCHIVE)
        packed = pipeline._PackedPictures(folder, archive)
        pipeline._register_batch(session, members, pictures=packed)
        ExchangeFile.objects.filter(pk=archive.pk).update(state=ExchangeFile.DONE, packed_members=packed.commit())
        assert not ExchangeFile.objects.filter(kind=pipeline.ATTACHMENT).exists()
    else:
        pipeline._register_batch(session, members)
    return StorageImageSource(folder.storage, session.folder, session_id=session.pk)


def png(colour):
    buffer = io.BytesIO()
    PILImage.new("RGB", (2, 2), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("indexed", [True, False], ids=["archive-index", "journal-rows"])
def test_packed_pictures_are_read_from_the_archive_and_known_again_by_size_and_crc(monkeypatch, indexed):
    from integration_1c.models import ImageFingerprint
    from integration_1c.services import images as images_module

    source = _packed_session(
        {"import_files/x/front.png": png("red"), "import_files/x/side.png": png("blue")}, indexed=indexed
    )
    apply(shoe("import_files/x/front.png", "import_files/x/side.png"), images=source)
    first = sorted(ProductImage.objects.values_list("code", "display_order", "original"))
    assert len(first) == 2 and ImageFingerprint.objects.count() == 2

    def never(*args):
        raise AssertionError("a known picture was read again")

    monkeypatch.setattr(images_module, "read_packed", never)
    apply(shoe("import_files/x/side.png", "import_files/x/front.png"), images=source)

    source.close()
    again = sorted(ProductImage.objects.values_list("code", "display_order", "original"))
    assert [(code, original) for code, _order, original in again] == [(code, original) for code, _o, original in first]
    assert [order for _code, order, _original in again] != [order for _code, order, _original in first]


def test_a_packed_picture_that_cannot_be_read_warns_and_keeps_what_the_product_has(upload):
    apply(shoe("import_files/ab/front.png"), images=DirectoryImageSource(upload))
    source = _packed_session({"import_files/x/new.png": png("green")}, damage=b"not a zip any more")

    report = apply(shoe("import_files/x/new.png"), images=source)
    source.close()

    assert any("картинка import_files/x/new.png не найдена" in warning for warning in report.warnings)
    assert ProductImage.objects.count() == 1


# --- content check, placement (issue 9: only pictures; issue 13: link, spread, leave alone) ---


def test_a_file_that_is_not_a_picture_is_skipped_with_a_warning(upload):
    page = upload / "import_files" / "ab" / "evil.jpg"
    page.write_bytes(b"<html><script>alert(1)</script></html>")
    svg = upload / "import_files" / "ab" / "logo.png"
    svg.write_bytes(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')

    report = apply(
        shoe("import_files/ab/evil.jpg", "import_files/ab/logo.png", "import_files/ab/front.png"),
        images=DirectoryImageSource(upload),
    )

    image = ProductImage.objects.get()
    assert image.original.read()[:4] == b"\x89PNG"
    assert image.display_order == 0
    assert media_files() == [image.original.name]
    skipped = [warning for warning in report.warnings if "не является изображением" in warning]
    assert len(skipped) == 2 and "import_files/ab/evil.jpg" in skipped[0]


def test_a_replaced_picture_that_is_not_an_image_keeps_the_old_one(upload):
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png"), images=source)
    before = list(ProductImage.objects.values_list("id", "original"))
    (upload / "import_files" / "ab" / "front.png").write_bytes(b"GIF89a but not really")

    report = apply(shoe("import_files/ab/front.png"), images=source)

    assert list(ProductImage.objects.values_list("id", "original")) == before
    assert any("не является изображением" in warning for warning in report.warnings)


def test_the_content_check_reads_the_header_only(tmp_path):
    from integration_1c.services.images import picture_format

    path = tmp_path / "big.png"
    PILImage.effect_noise((1500, 1500), 64).convert("RGB").save(path, "PNG")
    assert path.stat().st_size > 1_000_000

    class CountingFile(io.FileIO):
        read_bytes = 0

        def read(self, size=-1):
            data = super().read(size)
            CountingFile.read_bytes += len(data)
            return data

        def readinto(self, buffer):
            count = super().readinto(buffer)
            CountingFile.read_bytes += count or 0
            return count

    with CountingFile(path, "rb") as fileobj:
        assert picture_format(fileobj) == "PNG"
        assert fileobj.tell() == 0
    assert CountingFile.read_bytes < 64 * 1024


def test_pictures_are_linked_not_copied_and_spread_over_folders(upload):
    apply(shoe("import_files/ab/front.png", "import_files/ab/side.png"), images=DirectoryImageSource(upload))

    images = list(ProductImage.objects.all())
    for image in images:
        name = image.original.name
        assert name.startswith("images/products/1c/")
        folder = name.split("/")[3]
        assert len(folder) == 2 and all(char in "0123456789abcdef" for char in folder)
    stored = Path(django_settings.MEDIA_ROOT) / images[0].original.name
    assert stored.stat().st_ino == (upload / "import_files" / "ab" / "front.png").stat().st_ino
    assert len({image.original.name.split("/")[3] for image in images}) == 2


def test_pictures_are_copied_when_the_file_system_refuses_links(upload, monkeypatch):
    import errno
    import os

    def refuse(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    apply(shoe("import_files/ab/front.png"), images=DirectoryImageSource(upload))

    image = ProductImage.objects.get()
    stored = Path(django_settings.MEDIA_ROOT) / image.original.name
    source = upload / "import_files" / "ab" / "front.png"
    assert stored.read_bytes() == source.read_bytes()
    assert stored.stat().st_ino != source.stat().st_ino
    assert not list(stored.parent.glob("*.part"))


def test_pictures_go_to_a_storage_without_files_on_disk(upload):
    from django.core.files.storage import InMemoryStorage

    from integration_1c.services.images import ImageWriter, PicturePlacer
    from integration_1c.services.context import ImportContext
    from integration_1c.services.report import ImportReport

    storage = InMemoryStorage()
    placer = PicturePlacer(storage)
    ctx = ImportContext(ImportReport(source="import.xml"))
    product_row = Product.objects.create(title="x", code="p1", slug="x")
    record = shoe("import_files/ab/front.png")
    ImageWriter(ctx, DirectoryImageSource(upload), placer).write([record], {"p1": product_row.pk})

    image = ProductImage.objects.get()
    assert storage.exists(image.original.name)
    assert storage.open(image.original.name).read() == (upload / "import_files" / "ab" / "front.png").read_bytes()
    assert (placer.linked, placer.copied) == (0, 1)


def test_a_picture_left_by_a_crashed_import_is_taken_as_it_is(upload):
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png"), images=source)
    name = ProductImage.objects.get().original.name
    ProductImage.objects.all()._raw_delete("default")  # the rows are gone (rolled back), the file stayed
    assert (Path(django_settings.MEDIA_ROOT) / name).exists()

    apply(shoe("import_files/ab/front.png"), images=source)

    assert ProductImage.objects.get().original.name == name
    assert media_files() == [name]


def test_a_failed_import_removes_the_pictures_it_placed_and_keeps_the_upload(upload):
    from integration_1c.services.context import ImportContext, ImportFailed
    from integration_1c.services.importer import RecordApplier
    from integration_1c.services.report import ImportReport
    from django.db import transaction

    ctx = ImportContext(ImportReport(source="import.xml"), images=DirectoryImageSource(upload))

    class Broken(RecordApplier):
        def finish(self, document):
            raise ImportFailed("boom")

    with pytest.raises(ImportFailed):
        try:
            with transaction.atomic():
                Broken(ctx).apply([rec.Document(kind=rec.CATALOGUE), shoe("import_files/ab/front.png")])
        except BaseException:
            ctx.rolled_back()
            raise

    assert media_files() == []
    assert (upload / "import_files" / "ab" / "front.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_copied_pictures_get_the_storage_s_file_mode(upload, monkeypatch, umask):
    import errno
    import os

    from integration_1c.services import images as images_module

    def refuse(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    monkeypatch.setattr(images_module, "_CREATED_MODE", 0o666 & ~umask)
    previous = os.umask(umask)
    try:
        apply(shoe("import_files/ab/front.png"), images=DirectoryImageSource(upload))
    finally:
        os.umask(previous)

    stored = Path(django_settings.MEDIA_ROOT) / ProductImage.objects.get().original.name
    assert stored.stat().st_mode & 0o777 == django_settings.FILE_UPLOAD_PERMISSIONS


# -- pictures examined and placed by a process of their own (ImageWriter.PROCESS_AFTER) --------------


@pytest.fixture
def copies_by_writer(monkeypatch):
    """Every picture copied (no links), by the picture process from the first one."""
    import errno
    import os

    from integration_1c.services.images import ImageWriter

    def refuse(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    monkeypatch.setattr(ImageWriter, "PROCESS_AFTER", 0)


def child_processes():
    """The processes this one forked that still run, but those other tests left (a browser, a worker)."""
    return [pid for pid in child_pids() if pid not in _OTHERS]


_OTHERS = set()


@pytest.fixture(autouse=True)
def other_children():
    _OTHERS.clear()
    _OTHERS.update(child_processes())


def test_pictures_written_by_a_process_of_their_own(upload, copies_by_writer, monkeypatch):
    from integration_1c.services import images

    forked = []

    class Counted(images.PictureProcess):
        def __init__(self, source, placer):
            forked.append(source)
            super().__init__(source, placer)

    monkeypatch.setattr(images, "PictureProcess", Counted)
    apply(shoe("import_files/ab/front.png", "import_files/ab/side.png"), images=DirectoryImageSource(upload))

    assert len(forked) == 1
    stored = {row.original.name: row for row in ProductImage.objects.all()}
    assert sorted(stored) == media_files() and len(stored) == 2
    for name in stored:
        assert (Path(django_settings.MEDIA_ROOT) / name).read_bytes()[:4] == b"\x89PNG"
    assert not child_processes()  # the picture process ended with the file


def apply_failing(upload, applier=None):
    """The shoe with its two pictures applied as the importer applies a file: one transaction, cleaned up on an error."""
    from django.db import transaction

    from integration_1c.services.context import ImportContext
    from integration_1c.services.importer import RecordApplier
    from integration_1c.services.report import ImportReport

    ctx = ImportContext(ImportReport(source="import.xml"), images=DirectoryImageSource(upload))
    try:
        with transaction.atomic():
            (applier or RecordApplier)(ctx).apply(
                [rec.Document(kind=rec.CATALOGUE), shoe("import_files/ab/front.png", "import_files/ab/side.png")]
            )
    except BaseException:
        ctx.rolled_back()
        raise


def test_a_failed_import_removes_the_pictures_the_writing_process_placed(upload, copies_by_writer):
    from integration_1c.services.context import ImportFailed
    from integration_1c.services.importer import RecordApplier

    class Broken(RecordApplier):
        def finish(self, document):
            raise ImportFailed("boom")

    with pytest.raises(ImportFailed):
        apply_failing(upload, Broken)

    assert media_files() == []
    assert not child_processes()


def test_a_full_disk_met_by_the_writing_process_fails_the_file_and_leaves_nothing(upload, copies_by_writer, monkeypatch):
    import errno

    from integration_1c.services import images

    written = images.write_picture

    def second_fails(target, data, mode=None):
        if "side" in target:
            raise OSError(errno.ENOSPC, "No space left on device")
        return written(target, data, mode)

    monkeypatch.setattr(images, "write_picture", second_fails)
    with pytest.raises(OSError) as raised:
        apply_failing(upload)

    assert "No space left on device" in str(raised.value) and "side" in str(raised.value)
    assert media_files() == [] and not ProductImage.objects.exists()
    assert not child_processes()


def test_a_picture_process_that_dies_fails_the_file_with_its_reason_and_leaves_nothing(upload, copies_by_writer, monkeypatch):
    import os

    from integration_1c.services import images

    examined = images.examine

    def dies_at_the_second(task, source, placer):
        if "side" in task[1]:
            os._exit(9)  # killed (out of memory, a signal) in the middle of the batch
        return examined(task, source, placer)

    monkeypatch.setattr(images, "examine", dies_at_the_second)
    with pytest.raises(OSError) as raised:
        apply_failing(upload)

    assert "процесс записи картинок прервался" in str(raised.value)
    assert not Product.objects.exists() and not ProductImage.objects.exists()
    assert not child_processes()

    # A file the process placed before it died is nobody's; 1C sends the file again,
    # and the retry takes it as it is (its name is derived from the picture): no extra file.
    monkeypatch.setattr(images, "examine", examined)
    apply(shoe("import_files/ab/front.png", "import_files/ab/side.png"), images=DirectoryImageSource(upload))
    assert sorted(image.original.name for image in ProductImage.objects.all()) == media_files()
    assert not child_processes()


@pytest.mark.parametrize("by_writer", [False, True], ids=["in place", "by the picture process"])
def test_a_picture_a_crashed_import_left_half_written_is_written_again(upload, by_writer, request):
    if by_writer:
        request.getfixturevalue("copies_by_writer")
    source = DirectoryImageSource(upload)
    apply(shoe("import_files/ab/front.png"), images=source)
    name = ProductImage.objects.get().original.name
    stored = Path(django_settings.MEDIA_ROOT) / name
    whole = stored.read_bytes()
    ProductImage.objects.all()._raw_delete("default")
    stored.unlink()
    stored.write_bytes(whole[:10])  # the crash came in the middle of writing it

    apply(shoe("import_files/ab/front.png"), images=source)

    assert ProductImage.objects.get().original.name == name
    assert stored.read_bytes() == whole
    assert not list(stored.parent.glob("*.part"))


def test_the_picture_process_answers_a_batch_in_order_and_places_only_new_pictures(upload, tmp_path):
    """
    One batch of tasks: a new picture (placed, created), the same picture already in
    media at its size (placed, not created), a picture the product has by content (not
    placed), a file that is not a picture, a missing one — answered in the tasks' order
    while the importer is free, the process gone after close().
    """
    from integration_1c.services.images import (
        KNOWN,
        MISSING,
        NEW,
        NOT_A_PICTURE,
        PicturePlacer,
        PictureProcess,
        content_hash,
        image_code,
    )

    (upload / "import_files" / "ab" / "page.png").write_text("<html>not a picture</html>")
    source = DirectoryImageSource(upload)
    with open(upload / "import_files" / "ab" / "side.png", "rb") as side:
        side_key = image_code("p1", content_hash(side))

    def task(path, current=frozenset()):
        return ("p1", path, source.locate(path), current)

    process = PictureProcess(source, PicturePlacer())
    process.submit(
        [
            task("import_files/ab/front.png"),
            task("import_files/ab/front.png"),
            task("import_files/ab/side.png", frozenset({side_key})),
            task("import_files/ab/page.png"),
            task("import_files/ab/gone.png"),
        ]
    )
    answers, error = process.answers()
    assert process.close() == ([], None)

    assert error is None
    assert [(what, created) for what, _key, _name, created in answers] == [
        (NEW, True),
        (NEW, False),
        (KNOWN, False),
        (NOT_A_PICTURE, False),
        (MISSING, False),
    ]
    assert answers[0][2] == answers[1][2] and media_files() == [answers[0][2]]
    assert answers[2][1] == side_key
    assert not child_processes()


CATALOGUE_WITH_PICTURES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация ВерсияСхемы="2.08">'
    "<Классификатор><Ид>cl</Ид><Наименование>К</Наименование></Классификатор>"
    '<Каталог СодержитТолькоИзменения="false"><Ид>cat</Ид><ИдКлассификатора>cl</ИдКлассификатора>'
    "<Наименование>Каталог</Наименование><Товары><Товар><Ид>p1</Ид><Наименование>Ботинки</Наименование>"
    "<Картинка>import_files/ab/front.png</Картинка><Картинка>import_files/ab/side.png</Картинка>"
    "</Товар></Товары></Каталог></КоммерческаяИнформация>"
)


def test_the_last_batchs_image_rows_are_written_after_the_listing_refresh(upload, copies_by_writer, monkeypatch):
    """The picture process places the last batch's pictures while the listing is refreshed."""
    from integration_1c.services import importer
    from integration_1c.signals import catalogue_changed

    seen = []

    def receiver(**kwargs):
        seen.append(ProductImage.objects.count())

    catalogue_changed.connect(receiver, dispatch_uid="test.refresh_before_image_rows")
    try:
        path = upload / "import.xml"
        path.write_text(CATALOGUE_WITH_PICTURES, encoding="utf-8")
        importer.apply_path(path)
    finally:
        catalogue_changed.disconnect(dispatch_uid="test.refresh_before_image_rows")

    assert seen == [0]
    assert sorted(row.original.name for row in ProductImage.objects.all()) == media_files()
    assert len(media_files()) == 2
    assert not child_processes()


def test_a_listing_refresh_that_fails_leaves_no_picture_and_no_row(upload, copies_by_writer, monkeypatch):
    from integration_1c.services import importer
    from integration_1c.services.context import ImportFailed
    from shop.apps.search import receivers

    def refuse(**kwargs):
        raise RuntimeError("the listing refresh failed")

    monkeypatch.setattr(receivers.indexing, "refresh_changed_since", lambda *args, **kwargs: refuse())
    path = upload / "import.xml"
    path.write_text(CATALOGUE_WITH_PICTURES, encoding="utf-8")
    with pytest.raises(ImportFailed, match="the listing refresh failed"):
        importer.apply_path(path)

    assert media_files() == []
    assert not ProductImage.objects.exists() and not Product.objects.exists()
    assert not child_processes()
