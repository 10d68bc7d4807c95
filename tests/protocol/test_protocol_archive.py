"""zip=yes: the archive is unpacked once, on the first import, and only when it is safe."""

import io
import itertools
import os
import stat
import struct
import zipfile

import pytest

from integration_1c.models import ExchangeFile, ExchangeSession
from integration_1c.protocol import archives, pipeline, uploads
from integration_1c.protocol.packed_index import PackedIndex, index_name

from .conftest import text

pytestmark = pytest.mark.django_db

IMPORT_XML = "<КоммерческаяИнформация><Каталог/></КоммерческаяИнформация>".encode()
OFFERS_XML = "<КоммерческаяИнформация><ПакетПредложений/></КоммерческаяИнформация>".encode()


def make_zip(members, symlinks=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def package():
    return make_zip(
        {"import.xml": IMPORT_XML, "offers.xml": OFFERS_XML, "import_files/5c/a.jpg": b"\xff\xd8"}
    )


def folder_of(onec):
    return uploads.UploadFolder(ExchangeSession.objects.get(token=onec.sessid).folder)


def files_on_disk(tmp_path):
    return sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())


def test_the_archive_is_unpacked_on_the_first_import_not_after_its_chunks(onec, importer, queue, any_storage):
    onec.send("v8_1065_3a.zip", package(), chunk_size=100)
    folder = folder_of(onec)
    assert not folder.exists("import.xml")
    assert list(ExchangeFile.objects.values_list("name", flat=True)) == ["v8_1065_3a.zip"]

    assert text(onec.import_("import.xml")).startswith("progress\n")

    files = {f.name: f for f in ExchangeFile.objects.all()}
    archive = files["v8_1065_3a.zip"]
    assert (archive.state, archive.processed) == (ExchangeFile.DONE, 3)
    assert (
        files["import.xml"].state == ExchangeFile.QUEUED
        and files["offers.xml"].state == ExchangeFile.UPLOADING
    )
    if folder.local:
        # Pictures stay packed on a local disk, read in place: listed in the archive's
        # index, not in the journal (a row each cost PostgreSQL 2-3 s of a 100k exchange).
        assert set(files) == {"v8_1065_3a.zip", "import.xml", "offers.xml"}
        assert archive.packed_members == 1 and not folder.exists("import_files/5c/a.jpg")
        index = PackedIndex.open(folder.storage.path(folder.storage_name(index_name(archive.pk))), archive.name)
        [place] = index.find(["import_files/5c/a.jpg", "import_files/5c/b.jpg"]).values()
        with folder.open("v8_1065_3a.zip") as raw:
            assert archives.read_packed(raw, place).read() == b"\xff\xd8"
    else:
        assert set(files) == {"v8_1065_3a.zip", "import.xml", "offers.xml", "import_files/5c/a.jpg"}
        picture = files["import_files/5c/a.jpg"]
        assert picture.kind == pipeline.ATTACHMENT and picture.packed is None
        assert folder.open("import_files/5c/a.jpg").read() == b"\xff\xd8"

    queue.run()
    assert text(onec.import_("import.xml")) == "success"
    assert importer.applied == [("import.xml", IMPORT_XML)]


def test_the_archive_is_unpacked_only_once_per_upload(onec, importer, queue, monkeypatch):
    calls = []
    original = archives.extract
    monkeypatch.setattr(
        archives, "extract", lambda *args, **kwargs: calls.append(args[1]) or original(*args, **kwargs)
    )
    onec.send("v8.zip", package())

    for name in ("import.xml", "import.xml", "offers.xml"):
        text(onec.import_(name))
        queue.run()

    assert text(onec.import_("offers.xml")) == "success"
    assert calls == ["v8.zip"]
    assert [name for name, _content in importer.applied] == ["import.xml", "offers.xml"]


def test_a_big_archive_is_unpacked_by_the_worker_while_import_answers_progress(
    onec, importer, queue, monkeypatch
):
    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_BYTES", 10)
    onec.send("v8.zip", package())

    assert text(onec.import_("import.xml")) == "progress\nРаспаковка архива «v8.zip»…"
    assert text(onec.import_("import.xml")) == "progress\nРаспаковка архива «v8.zip»…"
    assert queue.names() == ["unpack_archive"]
    assert not folder_of(onec).exists("import.xml")

    queue.run()
    assert text(onec.import_("import.xml")).startswith("progress\n")
    assert queue.names() == ["import_exchange_file"]
    queue.run()
    assert text(onec.import_("import.xml")) == "success"


def test_an_archive_with_many_members_goes_to_the_worker(onec, importer, queue, monkeypatch):
    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_MEMBERS", 2)
    onec.send("v8.zip", package())

    assert text(onec.import_("import.xml")) == "progress\nРаспаковка архива «v8.zip»…"
    assert queue.names() == ["unpack_archive"]
    assert not folder_of(onec).exists("import.xml")


def test_an_archive_with_many_entries_goes_to_the_worker_without_a_pass_over_its_directory(
    onec, importer, queue, monkeypatch
):
    """
    Its end record counts its entries: the request hands it over on that count, and the
    worker checks and unpacks it as any other.
    """
    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_MEMBERS", 2)
    onec.send("v8.zip", package())
    with monkeypatch.context() as patch:
        patch.setattr(archives, "inspect", lambda *args: pytest.fail("the directory was read in the request"))
        assert text(onec.import_("import.xml")) == "progress\nРаспаковка архива «v8.zip»…"
    assert queue.names() == ["unpack_archive"]

    queue.run()
    assert ExchangeFile.objects.get(name="v8.zip").state == ExchangeFile.DONE
    assert text(onec.import_("import.xml")).startswith("progress\n")
    queue.run()
    assert text(onec.import_("import.xml")) == "success"


def test_an_end_record_that_understates_its_entries_does_not_keep_an_archive_in_the_request(onec, queue, monkeypatch):
    """The pass over the directory counts the members still: a record that says 1 does not make 3 inline."""
    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_MEMBERS", 2)
    data = bytearray(package())
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # entries on this disk, entries in all
    onec.send("v8.zip", bytes(data))

    assert text(onec.import_("import.xml")) == "progress\nРаспаковка архива «v8.zip»…"
    assert queue.names() == ["unpack_archive"]
    assert not folder_of(onec).exists("import.xml")


def test_an_archive_bigger_than_a_chunk_goes_to_the_worker_without_being_opened(onec, queue, monkeypatch):
    monkeypatch.setattr(pipeline, "INLINE_UNPACK_MAX_ARCHIVE", 10)
    monkeypatch.setattr(archives, "extract", lambda *args, **kwargs: pytest.fail("opened in the request"))
    onec.send("v8.zip", package())

    assert text(onec.import_("import.xml")).startswith("progress\n")
    assert queue.names() == ["unpack_archive"]


@pytest.mark.parametrize(
    "member, reason",
    [
        ("../../evil.xml", "недопустимое имя «../../evil.xml» в архиве"),
        ("/etc/cron.d/evil", "недопустимое имя «/etc/cron.d/evil» в архиве"),
        ("import_files/../../../evil.xml", "недопустимое имя «import_files/../../../evil.xml»"),
        ("C:\\evil.xml", "недопустимое имя «C:\\evil.xml»"),
    ],
)
def test_a_member_escaping_the_folder_refuses_the_whole_archive(
    onec, importer, queue, tmp_path, member, reason
):
    onec.send("v8.zip", make_zip({"import.xml": IMPORT_XML, member: b"pwned"}))

    answer = text(onec.import_("import.xml"))

    assert answer.startswith(f"failure\nАрхив «v8.zip» отклонён: {reason}")
    assert files_on_disk(tmp_path) == [f"exchange/{folder_of(onec).folder}/v8.zip"]
    assert list(ExchangeFile.objects.values_list("name", "state")) == [("v8.zip", ExchangeFile.FAILED)]
    assert text(onec.import_("offers.xml")).startswith("failure\nАрхив «v8.zip» отклонён")
    assert importer.applied == [] and queue.sent == []


def test_a_symbolic_link_in_the_archive_is_refused(onec, tmp_path):
    onec.send(
        "v8.zip", make_zip({"import.xml": IMPORT_XML}, symlinks=[("import_files/passwd", "/etc/passwd")])
    )

    answer = text(onec.import_("import.xml"))

    assert answer.startswith("failure\nАрхив «v8.zip» отклонён: «import_files/passwd» — символическая ссылка")
    assert not folder_of(onec).exists("import.xml")


def test_a_zip_bomb_by_ratio_is_refused_before_anything_is_written(onec, settings, tmp_path):
    settings.ONEC_MAX_ZIP_RATIO = 100
    onec.send("v8.zip", make_zip({"import.xml": IMPORT_XML, "offers.xml": b"\0" * (8 * 1024 * 1024)}))

    answer = text(onec.import_("import.xml"))

    assert answer.startswith("failure\nАрхив «v8.zip» отклонён: «offers.xml» сжат в ")
    assert "ONEC_MAX_ZIP_RATIO = 100" in answer and "zip-бомбу" in answer
    assert files_on_disk(tmp_path) == [f"exchange/{folder_of(onec).folder}/v8.zip"]


def test_an_archive_bigger_than_the_unpacked_limit_is_refused(onec, settings, tmp_path):
    settings.ONEC_MAX_UNZIPPED_SIZE = 1_000_000
    noise = os.urandom(600_000)
    onec.send("v8.zip", make_zip({"import.xml": noise, "offers.xml": noise}))

    answer = text(onec.import_("import.xml"))

    assert answer.startswith("failure\nАрхив «v8.zip» отклонён: распакованный размер 1 200 000 байт (1.1 МБ)")
    assert "ONEC_MAX_UNZIPPED_SIZE = 1 000 000 байт" in answer
    assert files_on_disk(tmp_path) == [f"exchange/{folder_of(onec).folder}/v8.zip"]


def test_an_archive_with_too_many_members_is_refused(onec, settings):
    settings.ONEC_MAX_ZIP_MEMBERS = 2
    onec.send("v8.zip", package())

    answer = text(onec.import_("import.xml"))

    assert answer.startswith(
        "failure\nАрхив «v8.zip» отклонён: в архиве 3 файлов, больше предела ONEC_MAX_ZIP_MEMBERS = 2"
    )


def _lie_about_sizes(data, declared):
    """Rewrite the uncompressed size in every local and central header of a one-member zip."""
    data = bytearray(data)
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, declared)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def test_a_header_that_lies_about_sizes_does_not_get_past_the_limits(onec, settings, tmp_path):
    """
    A member that is unpacked (neither XML nor a picture, read in place: see
    ``test_a_packed_xml_whose_size_lies_fails_with_its_reason_and_changes_nothing``)
    and inflates past what its headers say: the archive is refused.
    """
    settings.ONEC_MAX_UNZIPPED_SIZE = 100_000
    honest = make_zip({"import_files/manual.pdf": b"<a/>" * 200_000})  # 800 KB inflated
    onec.send("v8.zip", _lie_about_sizes(honest, 1_000))

    answer = text(onec.import_("import.xml"))

    assert answer.startswith("failure\nАрхив «v8.zip» отклонён")
    assert files_on_disk(tmp_path) == [f"exchange/{folder_of(onec).folder}/v8.zip"]


def test_limits_are_checked_on_the_inflated_bytes_too(monkeypatch):
    """Headers that passed (here: checked with no limits) do not let the inflated bytes past."""
    folder = uploads.UploadFolder("catalog/x")
    folder.write("v8.zip", io.BytesIO(make_zip({"a.xml": b"1" * 300_000, "b.xml": b"2" * 300_000})))
    original = archives.inspect
    unlimited = archives.Limits(max_total=10**12, max_members=10**6, max_ratio=10**6)
    monkeypatch.setattr(archives, "inspect", lambda archive, name, limits: original(archive, name, unlimited))

    with pytest.raises(archives.ArchiveRejected, match="ONEC_MAX_UNZIPPED_SIZE"):
        archives.extract(
            folder, "v8.zip", archives.Limits(max_total=400_000, max_members=10, max_ratio=10**6)
        )

    assert not folder.exists("a.xml") and not folder.exists("b.xml")


def test_small_well_compressed_members_are_not_taken_for_bombs(onec, settings, importer, queue):
    settings.ONEC_MAX_ZIP_RATIO = 100
    onec.send("v8.zip", make_zip({"import.xml": b" " * 500_000}))

    assert text(onec.import_("import.xml")).startswith("progress\n")


def test_a_file_that_is_not_a_zip_is_reported_as_such(onec):
    onec.send("v8.zip", b"<?xml version='1.0'?><not-a-zip/>")

    answer = text(onec.import_("import.xml"))

    assert answer.startswith("failure\nАрхив «v8.zip» отклонён: файл повреждён или не является zip-архивом")


def test_names_without_the_utf8_flag_are_read_as_the_windows_oem_code_page():
    info = zipfile.ZipInfo("import_files/" + "фото.jpg".encode("cp866").decode("cp437"))
    info.flag_bits = 0

    assert archives.member_name(info) == "import_files/фото.jpg"


def test_importing_the_archive_by_its_own_name_answers_once_it_is_unpacked(onec, importer, queue):
    onec.send("v8.zip", package())

    assert text(onec.import_("v8.zip")) == "success"
    assert queue.sent == []


def _rows_read(plan, table):
    """Rows the scans of ``table`` in an ``EXPLAIN (ANALYZE, FORMAT JSON)`` plan looked at."""
    read = 0
    if plan.get("Relation Name") == table:
        looked_at = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        read += looked_at * plan["Actual Loops"]
    for child in plan.get("Plans", ()):
        read += _rows_read(child, table)
    return read


def test_a_progress_call_reads_the_sessions_archives_not_every_member(onec, importer, queue):
    """
    1C asks about its file again and again while it is imported, and each call looks
    for the session's archives. Among the rows of an archive's 118,000 pictures that
    took 27 ms of the database for every call; it reads the few rows that are not
    pictures, however many the archive had.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    pictures = {f"import_files/{number % 40:02d}/{number}.jpg": b"\xff\xd8" for number in range(3000)}
    onec.send("v8.zip", make_zip({"import.xml": IMPORT_XML, "offers.xml": OFFERS_XML, **pictures}))
    assert text(onec.import_("import.xml")) == "progress\nРаспаковка архива «v8.zip»…"
    queue.run()  # the worker unpacks it
    assert ExchangeFile.objects.get(name="v8.zip").packed_members == 3000

    with CaptureQueriesContext(connection) as captured:
        assert text(onec.import_("import.xml")).startswith("progress\n")
        assert text(onec.import_("import.xml")).startswith("progress\n")
    reads = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT") and '"integration_1c_exchangefile"' in query["sql"]
    ]
    assert reads
    with connection.cursor() as cursor:
        for sql in reads:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0][0]["Plan"]
            assert _rows_read(plan, "integration_1c_exchangefile") <= 3, sql


def test_members_registered_by_copy_are_the_rows_bulk_create_writes(onec, monkeypatch):
    """The journal rows of an archive's members are the same whichever way they are inserted."""
    from django.db import connection

    onec.send("v8.zip", make_zip({"import.xml": IMPORT_XML}))
    session = ExchangeSession.objects.get(token=onec.sessid)
    packed = archives.Packed("v8.zip", 10, 3, 2, 12345, zipfile.ZIP_DEFLATED)
    members = [("import.xml", 60, None), ("import_files/5c/a.jpg", 2, packed), ("import_files/5c/b.txt", 1, None)]

    def registered():
        rows = ExchangeFile.objects.exclude(kind=pipeline.ARCHIVE).order_by("name").values()
        rows = [{key: value for key, value in row.items() if key not in ("id", "uploaded_at")} for row in rows]
        ExchangeFile.objects.exclude(kind=pipeline.ARCHIVE).delete()
        return rows

    pipeline._register_batch(session, members)
    copied = registered()
    with monkeypatch.context() as patch:
        patch.setattr(connection, "vendor", "other")  # Django's bulk_create
        pipeline._register_batch(session, members)
    assert copied == registered()
    assert [row["packed"] for row in copied] == [None, packed.as_json(), None]
    assert [row["kind"] for row in copied] == ["", pipeline.ATTACHMENT, pipeline.ATTACHMENT]


def _packed_picture(data, name="import_files/a.jpg"):
    folder = uploads.UploadFolder("catalog/packed")
    folder.write("v8.zip", io.BytesIO(data))
    limits = archives.Limits(max_total=10**9, max_members=10, max_ratio=10**6)
    [(member, size, packed)] = archives.extract(folder, "v8.zip", limits, leave_packed=lambda name: True)
    assert member == name and not folder.exists(name)
    return folder, size, packed


def test_a_picture_left_packed_reads_back_as_it_was_zipped():
    content = bytes(range(256)) * 400
    folder, size, packed = _packed_picture(make_zip({"import_files/a.jpg": content}))

    assert (size, packed.fingerprint) == (len(content), (len(content), zipfile.crc32(content)))
    with folder.open("v8.zip") as raw:
        assert archives.read_packed(raw, packed).read() == content


def test_a_packed_member_that_lies_about_its_size_is_never_inflated_past_it():
    lying = _lie_about_sizes(make_zip({"import_files/a.jpg": b"x" * 100_000}), 1_000)
    folder, size, packed = _packed_picture(lying)

    assert size == 1_000
    with folder.open("v8.zip") as raw, pytest.raises(archives.DamagedMember, match="more than its size"):
        archives.read_packed(raw, packed)


def test_a_packed_member_whose_bytes_changed_is_refused():
    content = b"picture" * 1000
    folder, _size, packed = _packed_picture(make_zip({"import_files/a.jpg": content}))
    other = archives.Packed(**{**packed.as_json(), "crc": packed.crc ^ 1})

    with folder.open("v8.zip") as raw, pytest.raises(archives.DamagedMember, match="CRC-32"):
        archives.read_packed(raw, other)
    moved = archives.Packed(**{**packed.as_json(), "offset": packed.offset + 1})
    with folder.open("v8.zip") as raw, pytest.raises(archives.DamagedMember, match="local header"):
        archives.read_packed(raw, moved)


def picture_seen(onec, name):
    """The bytes the import reads for picture ``name`` of the session (``services.images``)."""
    from django.core.files.storage import storages

    from integration_1c.services.images import StorageImageSource

    session = ExchangeSession.objects.get(token=onec.sessid)
    source = StorageImageSource(storages["exchange"], session.folder, session_id=session.pk)
    source.prepare([name])
    picture = source.open_at(source.locate(name))
    try:
        return picture.read() if picture is not None else None
    finally:
        if picture is not None:
            picture.close()
        source.close()


def _zip_in_order(members):
    """A zip of ``(name, content, method)`` in this order, repeated names kept."""
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about a repeated name
        for name, content, method in members:
            archive.writestr(name, content, compress_type=method)
    return buffer.getvalue()


def test_members_are_registered_as_they_are_unpacked_the_last_copy_of_a_name_counts(onec, importer, queue, monkeypatch):
    monkeypatch.setattr(pipeline, "REGISTER_BATCH", 1)
    onec.send(
        "v8.zip",
        _zip_in_order(
            [
                ("import_files/a.jpg", b"first", zipfile.ZIP_DEFLATED),
                ("import.xml", IMPORT_XML, zipfile.ZIP_DEFLATED),
                ("import_files/a.jpg", b"second copy", zipfile.ZIP_DEFLATED),
            ]
        ),
    )

    assert text(onec.import_("import.xml")).startswith("progress\n")

    assert picture_seen(onec, "import_files/a.jpg") == b"second copy"
    assert not ExchangeFile.objects.filter(name="import_files/a.jpg").exists()  # in the archive's index
    archive = ExchangeFile.objects.get(name="v8.zip")
    assert (archive.processed, archive.packed_members) == (2, 1)


@pytest.mark.parametrize(
    "first, last", [(zipfile.ZIP_BZIP2, zipfile.ZIP_DEFLATED), (zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2)]
)
def test_the_last_copy_of_a_name_counts_whether_it_was_left_packed_or_unpacked(
    onec, importer, queue, monkeypatch, first, last
):
    """
    A member compressed in a way the site does not read in place (bzip2) is unpacked
    and gets a journal row; a picture left packed is in the archive's index. Whichever
    way each copy of a repeated name went, the import reads the last one.
    """
    monkeypatch.setattr(pipeline, "REGISTER_BATCH", 1)
    onec.send(
        "v8.zip",
        _zip_in_order(
            [
                ("import_files/a.jpg", b"first", first),
                ("import.xml", IMPORT_XML, zipfile.ZIP_DEFLATED),
                ("import_files/a.jpg", b"second copy", last),
            ]
        ),
    )

    assert text(onec.import_("import.xml")).startswith("progress\n")

    assert picture_seen(onec, "import_files/a.jpg") == b"second copy"
    assert ExchangeFile.objects.get(name="v8.zip").processed == 2


def test_an_archive_refused_half_way_registers_none_of_its_members(onec, settings, monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "REGISTER_BATCH", 1)
    settings.ONEC_MAX_UNZIPPED_SIZE = 100_000
    data = bytearray(make_zip({"import_files/a.jpg": b"\xff\xd8", "import_files/b.pdf": b"<a/>" * 200_000}))
    local = data.find(b"PK\x03\x04", data.find(b"PK\x03\x04") + 1)  # the second member (unpacked) lies
    struct.pack_into("<I", data, local + 22, 1_000)
    central = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 1)
    struct.pack_into("<I", data, central + 24, 1_000)
    onec.send("v8.zip", bytes(data))

    answer = text(onec.import_("offers.xml"))

    assert answer.startswith("failure\nАрхив «v8.zip» отклонён")
    assert list(ExchangeFile.objects.values_list("name", flat=True)) == ["v8.zip"]
    # Nor the index of the picture left packed before the refusal (protocol.packed_index).
    assert files_on_disk(tmp_path) == [f"exchange/{folder_of(onec).folder}/v8.zip"]


def test_the_latest_upload_of_a_picture_is_the_one_imported(onec, importer, queue, monkeypatch):
    """
    A picture may come in an archive, in a later archive of the same session, or as a
    file of its own: the import reads the latest upload of each name.
    """
    monkeypatch.setattr(pipeline, "REGISTER_BATCH", 1)
    onec.send("import_files/5c/b.jpg", b"\xff\xd8 sent alone")
    onec.send("import_files/5c/c.jpg", b"\xff\xd8 c alone")
    onec.send("v8.zip", package())
    assert text(onec.import_("v8.zip")) == "success"
    onec.send("v8_2.zip", make_zip({"import_files/5c/a.jpg": b"\xff\xd8 again", "import_files/5c/b.jpg": b"\xff\xd8 b"}))
    assert text(onec.import_("v8_2.zip")) == "success"
    onec.send("import_files/5c/a.jpg", b"\xff\xd8 alone after the archives")

    assert picture_seen(onec, "import_files/5c/a.jpg") == b"\xff\xd8 alone after the archives"
    assert picture_seen(onec, "import_files/5c/b.jpg") == b"\xff\xd8 b"  # the archive came after it
    assert picture_seen(onec, "import_files/5c/c.jpg") == b"\xff\xd8 c alone"  # in no archive
    assert picture_seen(onec, "import_files/5c/d.jpg") is None
    rows = sorted(ExchangeFile.objects.values_list("name", flat=True))
    assert rows == [
        "import.xml", "import_files/5c/a.jpg", "import_files/5c/b.jpg", "import_files/5c/c.jpg", "offers.xml",
        "v8.zip", "v8_2.zip",
    ]  # fmt: skip


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_member_read_in_place_reads_as_its_content_in_pieces_of_any_size(method, monkeypatch):
    """What the importer does with an XML member left packed: pieces, its size, again from the start."""
    monkeypatch.setattr(archives.PackedReader, "CHUNK", 1000)  # many compressed pieces
    content = "".join(f"<Товар><Ид>{index}</Ид></Товар>" for index in range(5000)).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("import_files/a.jpg", b"\xff\xd8")
        archive.writestr("import.xml", content)
    folder = uploads.UploadFolder("catalog/in-place")
    folder.write("v8.zip", io.BytesIO(buffer.getvalue()))
    limits = archives.Limits(max_total=10**9, max_members=10, max_ratio=10**6)
    members = archives.extract(folder, "v8.zip", limits, leave_packed=pipeline.leave_packed)
    packed = dict((name, place) for name, _size, place in members)["import.xml"]

    with folder.open("v8.zip") as raw, archives.PackedReader(raw, packed) as member:
        assert member.seek(0, 2) == member.tell() == len(content)  # what a progress bar asks
        assert member.read() == b""
        member.seek(0)
        pieces = []
        for size in itertools.cycle([1, 7, 4096, 65536, 3]):
            piece = member.read(size)
            if not piece:
                break
            pieces.append(piece)
            assert member.tell() == sum(map(len, pieces))
        assert b"".join(pieces) == content
        member.seek(0)
        assert member.read() == content
        with pytest.raises(io.UnsupportedOperation):
            member.seek(10)


def test_an_index_of_packed_pictures_finds_a_batch_of_names_whatever_its_size(tmp_path):
    from integration_1c.protocol import packed_index

    path = str(tmp_path / packed_index.index_name(7))
    writer = packed_index.IndexWriter(path)
    names = [f"import_files/{number % 40:02d}/{number}.jpg" for number in range(1200)]
    writer.add(
        [(name, archives.Packed("v8.zip", number, 10, 20, number, zipfile.ZIP_DEFLATED)) for number, name in enumerate(names)]
    )
    writer.add([(names[0], archives.Packed("v8.zip", 99_999, 10, 20, 0, zipfile.ZIP_STORED))])  # its last copy
    writer.forget([names[1]])  # unpacked in its last copy: a journal row of its own
    assert not os.path.exists(path)  # put in place only whole
    writer.commit()

    index = packed_index.PackedIndex.open(path, "v8.zip")
    found = index.find([*names, "import_files/none.jpg"])  # more names than one statement takes
    assert (len(found), writer.count, index.count()) == (1199, 1199, 1199)
    assert found[names[0]].offset == 99_999 and found[names[1199]] == archives.Packed(
        "v8.zip", 1199, 10, 20, 1199, zipfile.ZIP_DEFLATED
    )
    assert names[1] not in found
    index.close()
    assert packed_index.PackedIndex.open(str(tmp_path / "missing.sqlite3"), "v8.zip") is None
