"""mode=file: chunked uploads, sub-folders, unsafe names, and the folder of each exchange."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.protocol import pipeline, uploads
from integration_1c.protocol.names import UnsafeName, clean_name

from .conftest import OneC, text

pytestmark = pytest.mark.django_db


def stored(onec, name):
    session = ExchangeSession.objects.get(token=onec.sessid)
    folder = uploads.UploadFolder(session.folder)
    folder.finish(name)
    with folder.open(name) as handle:
        return handle.read()


def test_a_file_sent_in_chunks_is_reassembled_byte_for_byte(onec, any_storage):
    content = bytes(range(256)) * 4000 + "ёжик в тумане".encode("cp1251")  # 1 MB of every byte value

    onec.send("import.xml", content, chunk_size=300_001)

    exchange_file = ExchangeFile.objects.get(name="import.xml")
    assert (exchange_file.size, exchange_file.chunks, exchange_file.state) == (
        len(content),
        4,
        ExchangeFile.UPLOADING,
    )
    assert stored(onec, "import.xml") == content


def test_names_with_sub_folders_are_stored_under_the_exchange_folder(onec, any_storage):
    onec.send("import_files/5c/5c2d6e0a-1b7a_9f1e.jpg", b"\xff\xd8jpeg")

    exchange_file = ExchangeFile.objects.get()
    assert exchange_file.name == "import_files/5c/5c2d6e0a-1b7a_9f1e.jpg"
    assert exchange_file.kind == pipeline.ATTACHMENT
    assert stored(onec, "import_files/5c/5c2d6e0a-1b7a_9f1e.jpg") == b"\xff\xd8jpeg"


UNSAFE_NAMES = [
    "../escape.xml",
    "import_files/../../escape.xml",
    "/etc/passwd",
    "C:/Windows/escape.xml",
    "c:escape.xml",
    "..\\..\\escape.xml",
    "import_files\\..\\..\\escape.xml",
    "/tmp/../escape.xml",
    "/tmp//etc/passwd",
    "upload/1c/webdata/../escape.xml",
    "C:\\1C\\upload\\import.xml",
    "import\x00.xml",
    "import_files//x.jpg",
    "import_files/./x.jpg",
    "import_files/",
    "..",
    " ",
    ".upload-chunks/import.xml/000001",
    ".packed-index/1.sqlite3",  # the indexes of the pictures archives left packed
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_unsafe_names_are_refused_and_nothing_is_written(onec, name, tmp_path):
    answer = text(onec.call("file", body=b"<evil/>", filename=name))

    assert answer.startswith("failure\nНедопустимое имя файла «")
    assert not ExchangeFile.objects.exists()
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written == []


def test_an_empty_filename_is_refused(onec):
    assert text(onec.call("file", body=b"x", filename="")).startswith("failure\nНе указано имя файла")


@pytest.mark.parametrize(
    "name",
    [
        "import.xml",
        "import___b815e2db-7a65.xml",
        "import_files/5c/a b.jpg",
        "Картинки/фото 1.JPG",
        "x..y.xml",
    ],
)
def test_ordinary_names_pass_unchanged(name):
    assert clean_name(name) == name


def test_a_name_longer_than_the_journal_holds_is_refused():
    with pytest.raises(UnsafeName):
        clean_name("a" * 256)


def test_the_control_characters_refused_are_exactly_unicodes_category_cc():
    import sys
    import unicodedata

    from integration_1c.protocol.names import CONTROL_CHARACTERS

    characters = [chr(code) for code in range(sys.maxunicode + 1)]
    control = [char for char in characters if unicodedata.category(char) == "Cc"]
    assert [char for char in characters if CONTROL_CHARACTERS.search(char)] == control
    for char in control:
        with pytest.raises(UnsafeName, match="управляющие символы"):
            clean_name(f"import_files/a{char}b.jpg")


def test_a_cp1251_file_name_from_an_old_client_is_understood(onec):
    name = "остатки.xml"
    query = "type=catalog&mode=file&filename=" + "".join(f"%{byte:02X}" for byte in name.encode("cp1251"))

    response = onec.client.post(
        f"/1c/exchange/?{query}", data=b"<x/>", content_type="application/octet-stream"
    )

    assert text(response) == "success"
    assert ExchangeFile.objects.get().name == name


def test_the_same_name_after_its_import_starts_a_new_upload(onec, importer, queue):
    onec.send("import.xml", b"<first/>")
    text(onec.import_("import.xml"))
    queue.run()

    onec.send("import.xml", b"<second/>")

    # A new journal row: a late write of the first import can never touch the new upload.
    first, exchange_file = ExchangeFile.objects.filter(name="import.xml").order_by("pk")
    assert first.state == ExchangeFile.DONE
    assert (exchange_file.state, exchange_file.chunks, exchange_file.processed) == (
        ExchangeFile.UPLOADING,
        1,
        0,
    )
    assert stored(onec, "import.xml") == b"<second/>"


def test_a_file_being_imported_cannot_be_overwritten(onec, importer, queue):
    onec.send("import.xml", b"<x/>")
    text(onec.import_("import.xml"))  # queued, the worker has not run yet

    answer = text(onec.call("file", body=b"<y/>", filename="import.xml"))

    assert answer.startswith("failure\n") and "сейчас загружается" in answer


def test_init_never_removes_the_folder_of_another_exchange(exchange_user, tmp_path, importer, queue, settings):
    """Another exchange may be between two files, mid-upload or importing: only age ends it."""
    settings.ONEC_FILE_LIMIT = 8
    busy, uploading, between = OneC(), OneC(), OneC()
    for client in (busy, uploading, between):
        text(client.checkauth())
        text(client.init())
    busy.send("import.xml", b"<busy/>")
    text(busy.import_("import.xml"))  # queued
    uploading.call("file", body=b"<partial", filename="offers.xml")  # one chunk of several
    between.send("import_files/a.jpg", b"jpeg")  # pictures sent, its XML not yet
    folders = sorted(ExchangeSession.objects.values_list("folder", flat=True))

    later = OneC()
    text(later.checkauth())
    text(later.init())
    queue.run()  # the cleanup the init asked for, too

    assert set(folders) <= set(uploads.list_folders("catalog"))
    uploading.call("file", body=b"/>", filename="offers.xml")
    assert stored(uploading, "offers.xml") == b"<partial/>"
    assert stored(between, "import_files/a.jpg") == b"jpeg"
    assert text(busy.import_("import.xml")) == "success"


def test_init_leaves_the_folders_of_the_other_exchange_type(exchange_user, sale_client, settings, queue):
    settings.ONEC_FILE_LIMIT = 20
    sale_client.send("orders.xml", b"<KI/>" * 10, chunk_size=20)  # several chunks: queued, not applied
    catalogue = OneC()
    text(catalogue.checkauth())
    text(catalogue.init())

    assert len(uploads.list_folders("sale")) == 1


def test_every_exchange_gets_its_own_folder(exchange_user):
    first, second = OneC(), OneC()
    for client in (first, second):
        text(client.checkauth())
        text(client.init())
        client.send("import.xml", client.sessid.encode())

    folders = list(ExchangeSession.objects.values_list("folder", flat=True))
    assert len(set(folders)) == 2
    assert all(folder.startswith("catalog/") for folder in folders)


def test_a_file_without_init_still_gets_a_folder(exchange_user):
    client = OneC()
    text(client.checkauth())

    client.send("import.xml", b"<x/>")

    assert ExchangeSession.objects.get().folder


def test_cleanup_removes_old_folders_and_keeps_recent_and_busy_ones(exchange_user, settings):
    settings.ONEC_KEEP_EXCHANGE_HOURS = 72
    now = timezone.now()
    storage = uploads.exchange_storage()
    old = ExchangeSession.objects.create(
        exchange_type="catalog", token="old", started_at=now - timedelta(days=4), last_seen_at=now - timedelta(days=4)
    )
    in_use = ExchangeSession.objects.create(  # started long ago, still calling: not over
        exchange_type="catalog", token="in-use", started_at=now - timedelta(days=4)
    )
    busy = ExchangeSession.objects.create(
        exchange_type="catalog", token="busy", started_at=now - timedelta(days=4)
    )
    recent = ExchangeSession.objects.create(
        exchange_type="sale", token="new", started_at=now - timedelta(hours=1)
    )
    for session in (old, in_use, busy, recent):
        session.folder = uploads.new_folder_name(session.exchange_type, session.token, session.started_at)
        session.save()
        uploads.UploadFolder(session.folder).write("import_files/a.jpg", io.BytesIO(b"jpeg"))
    ExchangeFile.objects.create(session=busy, name="import.xml", state=ExchangeFile.RUNNING, started_at=now)

    from integration_1c.tasks import cleanup_exchange_folders

    assert cleanup_exchange_folders.apply().get() == 1
    assert not storage.exists(old.folder)
    assert storage.exists(busy.folder) and storage.exists(recent.folder) and storage.exists(in_use.folder)


def test_cleanup_fails_files_whose_worker_is_gone_and_closes_idle_sessions(exchange_user, settings):
    settings.ONEC_KEEP_EXCHANGE_HOURS = 1
    long_ago = timezone.now() - timedelta(hours=5)
    session = ExchangeSession.objects.create(
        exchange_type="catalog", token="t", started_at=long_ago, last_seen_at=long_ago
    )
    stuck = ExchangeFile.objects.create(
        session=session, name="import.xml", state=ExchangeFile.QUEUED, uploaded_at=long_ago
    )

    pipeline.cleanup()

    stuck.refresh_from_db()
    session.refresh_from_db()
    assert stuck.state == ExchangeFile.FAILED and "1 ч" in stuck.error
    assert session.state == ExchangeSession.FAILED and session.finished_at == long_ago


def test_chunks_on_a_storage_without_paths_are_joined_once(onec, settings):
    storages = dict(settings.STORAGES)
    storages["exchange"] = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
    settings.STORAGES = storages
    storage = uploads.exchange_storage()
    onec.send("import_files/a/b.jpg", b"12345", chunk_size=2)
    folder = uploads.UploadFolder(ExchangeSession.objects.get().folder)

    assert not folder.exists("import_files/a/b.jpg")
    assert folder.finish_all() == ["import_files/a/b.jpg"]
    assert folder.open("import_files/a/b.jpg").read() == b"12345"
    assert folder.finish_all() == []
    assert storage.listdir(folder.folder) == (["import_files"], [])


def test_folder_names_carry_their_start_time():
    when = timezone.now().replace(microsecond=0)
    folder = uploads.new_folder_name("catalog", "abc", when)

    assert uploads.folder_started_at(folder) == when
    assert uploads.folder_started_at("catalog/not-ours") is None
    assert Path(folder).name.endswith("-abc")


def test_a_chunk_bigger_than_djangos_upload_memory_limit_is_streamed(onec, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    content = b"<x>" + b"7" * 50_000 + b"</x>"

    onec.send("import.xml", content)

    assert stored(onec, "import.xml") == content


def test_a_one_chunk_upload_is_in_place_at_once_on_any_storage(onec, any_storage):
    onec.send("import_files/a.jpg", b"jpeg")

    folder = uploads.UploadFolder(ExchangeSession.objects.get().folder)
    assert folder.open("import_files/a.jpg").read() == b"jpeg"
    assert folder.finish_all() == []


def test_old_folders_are_removed_by_age_by_the_worker_on_an_object_store(exchange_user, settings, queue):
    from django.core.cache import cache

    storages = dict(settings.STORAGES)
    storages["exchange"] = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
    settings.STORAGES = storages
    cache.delete(pipeline.CLEANUP_KEY)
    long_ago = timezone.now() - timedelta(days=5)
    old = ExchangeSession.objects.create(exchange_type="catalog", token="old", started_at=long_ago, last_seen_at=long_ago)
    old.folder = uploads.new_folder_name("catalog", old.token, long_ago)
    old.save()
    uploads.UploadFolder(old.folder).write("import_files/a.jpg", io.BytesIO(b"jpeg"))

    later = OneC()
    text(later.checkauth())
    text(later.init())
    assert queue.names() == ["cleanup_exchange_folders"]  # init itself deletes nothing
    assert old.folder in uploads.list_folders("catalog")

    queue.run()
    assert old.folder not in uploads.list_folders("catalog")
    text(later.checkauth())
    text(later.init())
    assert queue.names() == []  # at most once an hour


@pytest.mark.parametrize(
    ("sent", "stored_as"),
    [
        ("import_files\\5c\\5c2d_9f1e.jpg", "import_files/5c/5c2d_9f1e.jpg"),
        ("/tmp/import.xml", "import.xml"),
        ("/tmp/import_files/5c/x.jpg", "import_files/5c/x.jpg"),
        ("upload/1c/webdata/import.xml", "import.xml"),
        ("upload/1c/webdata\\import_files\\x.jpg", "import_files/x.jpg"),
        (" offers.xml ", "offers.xml"),
    ],
)
def test_names_as_1c_on_windows_and_some_servers_send_them_are_normalised(onec, sent, stored_as):
    """As 1C-Bitrix: backslashes are folder separators, the 1C server's prefix is removed."""
    assert text(onec.call("file", body=b"<x/>", filename=sent)) == "success"

    assert ExchangeFile.objects.get().name == stored_as
    assert stored(onec, stored_as) == b"<x/>"


def test_import_finds_a_file_sent_with_backslashes(onec, importer, queue):
    onec.send("sub\\import.xml", b"<x/>")

    assert text(onec.import_("sub\\import.xml")).startswith("progress")
    assert ExchangeFile.objects.get().name == "sub/import.xml"


def test_the_one_match_for_plain_names_accepts_only_what_the_rules_accept(monkeypatch):
    """``names.PLAIN_NAME`` answers for most names at once: it must never let through one the rules refuse."""
    import random

    from integration_1c.protocol import names

    class NoShortcut:
        @staticmethod
        def fullmatch(name):
            return None

    def accepted(name):
        try:
            return names.clean_name(name) == name
        except names.UnsafeName:
            return False

    rng = random.Random(13)
    candidates = [*UNSAFE_NAMES, "import_files/5c/5c2d6e0a-1b7a_9f1e.jpg", "a" * 255, "a" * 256, "-", "a./b..c"]
    candidates += ["".join(rng.choice("aZ09_-./\\: й\x00") for _ in range(rng.randint(1, 10))) for _ in range(20_000)]
    with_shortcut = [accepted(name) for name in candidates]
    monkeypatch.setattr(names, "PLAIN_NAME", NoShortcut)
    assert with_shortcut == [accepted(name) for name in candidates]
    assert sum(with_shortcut) > 1000  # the sample holds accepted names too
