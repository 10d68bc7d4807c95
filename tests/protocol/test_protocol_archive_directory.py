"""
An archive's central directory is read an entry at a time (``archives.Directory``): the
entries and errors are zipfile's, the members unpacked and registered are the ones
unpacking from zipfile's own list gave, and the memory it takes does not grow with the
archive.
"""

import io
import stat
import tracemalloc
import warnings
import zipfile

import pytest

from integration_1c.protocol import archives, uploads

LIMITS = archives.Limits(max_total=10**12, max_members=10**6, max_ratio=10**6)

#: What ZipFile.infolist() says of each entry.
ATTRIBUTES = (
    "filename", "orig_filename", "date_time", "compress_type", "comment", "extra", "create_system",
    "create_version", "extract_version", "reserved", "flag_bits", "volume", "internal_attr",
    "external_attr", "header_offset", "CRC", "compress_size", "file_size",
)  # fmt: skip

OEM_NAME = "import_files/фото.jpg".encode("cp866")


def varied_zip(comment=b""):
    """Entries of every kind: methods, UTF-8 and OEM names, folders, links, extras, comments."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # the repeated name
        archive.comment = comment
        archive.writestr("import.xml", b"<x/>" * 500, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("import_files/", b"")
        archive.writestr("import_files/5c/a.jpg", b"\xff\xd8" * 300, compress_type=zipfile.ZIP_STORED)
        archive.writestr("import_files/b.png", b"png" * 300, compress_type=zipfile.ZIP_BZIP2)
        archive.writestr("offers.xml", b"<offers/>" * 300, compress_type=zipfile.ZIP_LZMA)
        archive.writestr("import_files/картинка.jpg", b"utf-8 name", compress_type=zipfile.ZIP_DEFLATED)
        placeholder = zipfile.ZipInfo("import_files/" + "x" * (len(OEM_NAME) - len("import_files/")))
        archive.writestr(placeholder, b"oem name")
        dated = zipfile.ZipInfo("import_files/dated.jpg", date_time=(2024, 5, 17, 13, 45, 58))
        dated.extra = b"\x99\x99\x04\x00abcd"  # an extra field of a kind nobody reads
        dated.comment = b"member comment"
        archive.writestr(dated, b"dated", compress_type=zipfile.ZIP_DEFLATED)
        link = zipfile.ZipInfo("import_files/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("import_files/5c/a.jpg", b"second copy", compress_type=zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    # The placeholder's name becomes cp866 bytes without the UTF-8 flag, as 1C on Windows writes.
    return data.replace(placeholder.filename.encode(), OEM_NAME)


def zip64(monkeypatch):
    """A small archive written as a big one: zip64 sizes, offsets and end record."""
    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "ZIP64_LIMIT", 8)
        patch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)
        data = varied_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert any(info.extra.startswith(b"\x01\x00") for info in archive.infolist())
    assert b"PK\x06\x06" in data
    return data


def outcome(read):
    try:
        return [tuple(getattr(info, key) for key in ATTRIBUTES) for info in read()]
    except Exception as exc:  # the same error, with the same words
        return (type(exc), str(exc))


def zipfile_entries(data):
    def read():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.infolist()

    return outcome(read)


def directory_entries(data):
    return outcome(lambda: list(archives.Directory(io.BytesIO(data))))


@pytest.mark.parametrize("kind", ["plain", "zip64", "commented", "prepended"])
def test_the_directory_gives_the_entries_zipfile_gives(kind, monkeypatch):
    data = {
        "plain": varied_zip,
        "zip64": lambda: zip64(monkeypatch),
        "commented": lambda: varied_zip(comment=b"1C:Enterprise 8.3 " * 50),
        "prepended": lambda: b"MZ self-extracting stub " * 40 + varied_zip(),
    }[kind]()
    monkeypatch.setattr(archives, "DIRECTORY_BLOCK", 50)  # entries across blocks

    expected = zipfile_entries(data)

    assert isinstance(expected, list) and len(expected) == 10
    assert directory_entries(data) == expected
    names = [archives.member_name(info) for info in archives.Directory(io.BytesIO(data))]
    assert "import_files/фото.jpg" in names and "import_files/картинка.jpg" in names


def damaged(data):
    """The archive cut and with single bytes changed, all over its directory and end record."""
    start = data.rindex(b"PK\x01\x02") - 200
    versions = [data[:cut] for cut in range(len(data) - 60, len(data), 7)]
    for position in range(start, len(data)):
        for value in (0x00, 0xFF):
            changed = bytearray(data)
            changed[position] = value
            versions.append(bytes(changed))
    return versions


@pytest.mark.parametrize("kind", ["plain", "zip64"])
def test_a_damaged_directory_fails_as_zipfile_fails(kind, monkeypatch):
    data = varied_zip() if kind == "plain" else zip64(monkeypatch)
    failures = set()
    for version in [b"", b"not a zip at all", *damaged(data)]:
        expected = zipfile_entries(version)
        assert directory_entries(version) == expected
        if not isinstance(expected, list):
            failures.add(expected)

    assert len(failures) > 5  # the mutations reached several of zipfile's checks


def unpacked(data, batch=None, register=True):
    """What ``extract`` registers, and what is on disk after it, for an archive of bytes."""
    folder = uploads.UploadFolder(f"catalog/directory-{batch}-{register}")
    folder.write("v8.zip", io.BytesIO(data))
    batches = []
    result = archives.extract(
        folder,
        "v8.zip",
        LIMITS,
        leave_packed=lambda name: name.endswith((".jpg", ".png")),
        register=(lambda rows, repeated: batches.append((rows, repeated))) if register else None,
        batch=batch or 2000,
    )
    members, earlier = {}, set()
    for rows, repeated in batches:
        # The names a batch repeats from earlier ones are told (the pipeline looks up only those).
        assert {name for name, *_ in rows} & earlier <= repeated
        earlier |= {name for name, *_ in rows}
    for name, size, packed in (row for rows, _ in batches for row in rows) if register else result:
        members.pop(name, None)  # a later batch's copy of a name is the one that counts
        members[name] = (size, packed)
    on_disk = {name: folder.open(name).read() for name in members if folder.exists(name)}
    return (result if register else len(result)), members, on_disk


def expected_members(data, local=True):
    """What unpacking from zipfile's own list of entries registers: the last copy of a name, in order."""
    members = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            name = archives.member_name(info)
            if info.is_dir():
                continue
            packable = info.compress_type in archives.PACKABLE_METHODS
            packs = local and packable and name.endswith((".jpg", ".png"))
            place = None
            if packs:
                place = archives.Packed(
                    "v8.zip", info.header_offset, info.compress_size, info.file_size, info.CRC,
                    info.compress_type,
                )  # fmt: skip
            members.pop(name, None)
            members[name] = (info.file_size, place)
    return members


def members_zip():
    """
    Pictures and XML, pictures repeated: written (bzip2 is not read in place), then
    packed; packed, then written.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")
        archive.writestr("import.xml", b"<import/>")
        archive.writestr("import_files/x.jpg", b"first", compress_type=zipfile.ZIP_BZIP2)
        for index in range(60):
            archive.writestr(f"import_files/{index % 7}/{index}.jpg", b"p" * index)
        archive.writestr("import_files/x.jpg", b"second")
        archive.writestr("import_files/y.jpg", b"packed first")
        archive.writestr("offers.xml", b"<offers/>")
        archive.writestr("import_files/y.jpg", b"written last", compress_type=zipfile.ZIP_BZIP2)
        archive.writestr("import_files/3/3.jpg", b"again")
    return buffer.getvalue()


@pytest.mark.parametrize("collisions", [False, True])
def test_members_registered_are_those_of_zipfiles_own_list(collisions, any_storage, monkeypatch):
    local = any_storage == "filesystem"  # elsewhere every member is written
    if collisions:  # every name falls on the same few bits: repeats are told apart by the names
        monkeypatch.setattr(archives._Repeats, "BITS", 0)
        monkeypatch.setattr(archives._Repeats, "MIN_SIZE", 3)
    data = members_zip()
    expected = expected_members(data, local=local)

    listed = unpacked(data, register=False)
    for batch in (1, 7, 2000):
        count, members, on_disk = unpacked(data, batch=batch)
        assert (count, members, on_disk) == listed
    count, members, on_disk = listed

    assert count == len(expected) == 64
    assert members == expected
    if local:  # the last copy of a picture packed: no copy on disk; written: on disk
        assert set(on_disk) == {"import.xml", "offers.xml", "import_files/y.jpg"}
        assert on_disk["import_files/y.jpg"] == b"written last"
    else:
        assert len(on_disk) == 64 and on_disk["import_files/x.jpg"] == b"second"


def test_a_refused_archive_leaves_none_of_the_members_it_wrote(any_storage):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("import.xml", b"<import/>")
        archive.writestr("import_files/a.jpg", b"packed")
        archive.writestr("offers.xml", b"<offers/>")
        archive.writestr("import_files/b.pdf", b"written")
        archive.writestr("rests.xml", b"<rests/>", compress_type=zipfile.ZIP_STORED)
    data = bytearray(buffer.getvalue())
    data[data.rindex(b"<rests/>")] ^= 1  # the last member fails its CRC-32 once written
    folder = uploads.UploadFolder("catalog/refused")
    folder.write("v8.zip", io.BytesIO(bytes(data)))
    registered = []

    with pytest.raises(archives.ArchiveRejected, match="Bad CRC-32"):
        archives.extract(
            folder,
            "v8.zip",
            LIMITS,
            leave_packed=lambda name: name.endswith(".jpg"),
            register=lambda rows, repeated: registered.append(rows),
            batch=1,
        )

    assert len(registered) == 4  # the caller's transaction takes these back
    written = ("import.xml", "import_files/a.jpg", "offers.xml", "import_files/b.pdf", "rests.xml")
    assert [name for name in written if folder.exists(name)] == []
    assert folder.exists("v8.zip")


def many_pictures(count):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("import.xml", b"<import/>")
        for index in range(count):
            archive.writestr(f"import_files/{index % 251:02x}/{index:08d}-5c0f6a3e-picture.jpg", b"\xff\xd8")
    return buffer.getvalue()


def test_unpacking_keeps_nothing_per_member():
    """
    Ten times the pictures, the same memory: zipfile's list of entries took 600 bytes a
    member, a set of the names 160; what is left is about 2 bytes a member.
    """

    def peak(count):
        folder = uploads.UploadFolder(f"catalog/many-{count}")
        folder.write("v8.zip", io.BytesIO(many_pictures(count)))
        registered = []
        tracemalloc.start()
        try:
            members = archives.extract(
                folder,
                "v8.zip",
                LIMITS,
                leave_packed=lambda name: name.endswith(".jpg"),
                register=lambda batch, repeated: registered.append(len(batch)),
                batch=200,
            )
            _current, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert members == sum(registered) == count + 1
        return top

    small, large = peak(1_000), peak(10_000)

    assert large - small < 300 * 1024, (small, large)


def test_reasons_come_in_the_order_they_came_when_every_entry_was_read_first():
    """Too many entries before a bad name, a damaged directory before either: as with ZipFile's list."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("import.xml", b"<import/>")
        archive.writestr("../evil.xml", b"<evil/>")
        archive.writestr("import_files/a.jpg", b"a")
        archive.writestr("/etc/evil", b"evil")
    data = buffer.getvalue()
    broken = bytearray(data)
    broken[broken.rindex(b"PK\x01\x02") + 3] = 0  # the last entry's header

    def reason(data, max_members):
        folder = uploads.UploadFolder("catalog/order")
        folder.write("v8.zip", io.BytesIO(bytes(data)))
        limits = archives.Limits(max_total=10**9, max_members=max_members, max_ratio=10**6)
        with pytest.raises(archives.ArchiveRejected) as refused:
            archives.extract(folder, "v8.zip", limits, register=lambda batch, repeated: None)
        assert not folder.exists("import.xml")
        return refused.value.reason

    assert reason(data, 3) == "в архиве 4 файлов, больше предела ONEC_MAX_ZIP_MEMBERS = 3"
    assert reason(data, 10).startswith("недопустимое имя «../evil.xml» в архиве")
    assert reason(broken, 3) == (
        "файл повреждён или не является zip-архивом (Bad magic number for central directory)"
    )
