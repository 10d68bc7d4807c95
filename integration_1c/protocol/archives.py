"""
Unpacking the zip archive 1C sends when the site answers ``zip=yes`` (e.g.
``v8_1065_3a.zip`` holding ``import.xml``, ``offers.xml`` and ``import_files/…``).

An archive is untrusted input even from an authenticated 1C: a mistake or a stolen
password must not let it write outside its exchange folder or fill the disk. So:

* member names obey the same rules as uploaded names (:func:`.names.clean_name`);
  symbolic links and encrypted members are refused;
* the limits (conf ``ONEC_MAX_UNZIPPED_SIZE``, ``ONEC_MAX_ZIP_MEMBERS``,
  ``ONEC_MAX_ZIP_RATIO``) are checked from the central directory before anything is
  written, and again on the bytes actually inflated (a header may lie);
* a refused archive leaves nothing behind: members written so far are deleted.

Pictures and XML files need not be unpacked at all (``leave_packed``): on a local disk
a member stored or deflated can be read in place at its offset in the archive
(:func:`read_packed`, :class:`PackedReader`), so an exchange of 100,000 products does
not write 118,000 pictures and 630 MB of XML only for the import to read them once, and
a picture the shop already has is recognised by the size and CRC-32 the central
directory gives (:class:`Packed`), without inflating a byte. Such a member is checked
when it is read (never inflated past its declared size, its CRC-32 compared at its end):
a member that lies fails its own import (a picture is reported missing), where an
unpacked member that lies refuses the whole archive.

Unpacking takes the same memory whatever the size of the archive. :class:`zipfile.ZipFile`
reads the whole central directory into a :class:`~zipfile.ZipInfo` for every entry when
it opens an archive, and the names of the members were kept to count them: 75 MB for the
118,000 pictures of 100,000 products, which made unpacking the worker's peak (178 MB
against 99 MB for 10,000 products). Here the directory is read an entry at a time
(:class:`Directory`), twice: once to check it, once to unpack; members are read through
zipfile given their entry (:class:`_MemberReader`).
"""

import functools
import io
import json
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field

from integration_1c import conf

from .names import UnsafeName, clean_name

#: The compression ratio says nothing about small members (10 KB of spaces compress
#: 500:1), so it is checked only on members, and totals, bigger than this.
RATIO_MIN_BYTES = 1024 * 1024
_UTF8_NAME_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


class ArchiveRejected(Exception):
    """The archive is refused; the message names it and says why (shown to 1C's operator)."""

    def __init__(self, archive_name, reason):
        self.archive_name = archive_name
        self.reason = reason
        super().__init__(f"Архив «{archive_name}» отклонён: {reason}")


class UnpackLater(Exception):
    """The archive is fine but too big to unpack within one HTTP call."""


class DamagedMember(Exception):
    """A member left packed does not read back as the central directory described it."""


#: Compression methods :func:`read_packed` inflates (what 1C and every zip tool write).
PACKABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

_LOCAL_HEADER = struct.Struct("<4s22xHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
#: A member read in place is held in memory up to this size, beyond it in a temporary file.
PACKED_SPOOL = 8 * 1024 * 1024


@dataclass(frozen=True)
class Packed:
    """
    Where a member left in its archive is, as the central directory says (checked
    against the limits like every member): enough to read it without opening the
    directory again, and its size and CRC-32 say what it holds.
    """

    archive: str
    offset: int
    compressed_size: int
    size: int
    crc: int
    method: int

    def as_json_text(self):
        """:meth:`as_json` as JSON text, made without a dictionary (118,000 members an exchange)."""
        return (
            f'{{"archive": {_json_text(self.archive)}, "offset": {self.offset:d}, '
            f'"compressed_size": {self.compressed_size:d}, "size": {self.size:d}, "crc": {self.crc:d}, '
            f'"method": {self.method:d}}}'
        )

    def as_json(self):
        return {
            "archive": self.archive,
            "offset": self.offset,
            "compressed_size": self.compressed_size,
            "size": self.size,
            "crc": self.crc,
            "method": self.method,
        }

    @classmethod
    def from_json(cls, data):
        return cls(**data)

    @property
    def fingerprint(self):
        """What the member holds, in the directory's words: ``(size, CRC-32)``."""
        return (self.size, self.crc)


@functools.lru_cache(maxsize=16)
def _json_text(value):
    return json.dumps(value, ensure_ascii=False)


def read_packed(raw, packed):
    """
    The content of a member left packed, from ``raw`` (the archive, opened for
    reading), as a file positioned at its start. Raises :class:`DamagedMember` when the
    bytes at that place are not the member the directory described (the archive was
    replaced, cut or forged): the inflated size and the CRC-32 are checked, and nothing
    beyond the promised size is ever inflated.
    """
    member = PackedReader(raw, packed)
    # A picture (most members) is held in memory; only a bigger member goes to a temporary file.
    out = io.BytesIO() if packed.size <= PACKED_SPOOL else tempfile.TemporaryFile()
    try:
        while chunk := member.read(PackedReader.CHUNK):
            out.write(chunk)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


class PackedReader:
    """
    A member left packed, read as a file without being unpacked: inflated as it is read
    (the XML files of a 100,000-product archive are 630 MB, written out and read back
    by unpacking them), never past the size the directory promises, its size and CRC-32
    checked when its end is read — :class:`DamagedMember` otherwise, as
    :func:`read_packed` does. ``seek(0)`` starts it again and ``seek(0, 2)`` goes to
    its end (what a reader's progress asks of a file); ``tell()`` is the position in
    the member. ``raw`` is closed with it when ``close_raw``.
    """

    #: Compressed bytes read from the archive at a time.
    CHUNK = 1024 * 1024

    def __init__(self, raw, packed, close_raw=False):
        self.raw = raw
        self.packed = packed
        self.close_raw = close_raw
        self.closed = False
        self.seek(0)

    @classmethod
    def owning(cls, raw, packed):
        """The member read from ``raw``, which is closed with it (at once if the member is not there)."""
        try:
            return cls(raw, packed, close_raw=True)
        except BaseException:
            raw.close()
            raise

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        if offset == 0 and whence == io.SEEK_SET:
            self._start()
        elif offset == 0 and whence == io.SEEK_END:
            self.position, self.ended = self.packed.size, True
        elif not (offset == 0 and whence == io.SEEK_CUR):
            raise io.UnsupportedOperation("a member read from its archive seeks only to its start or its end")
        return self.position

    def _start(self):
        raw, packed = self.raw, self.packed
        raw.seek(packed.offset)
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(_read_exactly(raw, _LOCAL_HEADER.size))
        if signature != _LOCAL_SIGNATURE:
            raise DamagedMember("no local header at the member's offset")
        self.offset = packed.offset + _LOCAL_HEADER.size + name_length + extra_length
        self.left = packed.compressed_size  # compressed bytes not read from the archive yet
        self.pending = b""  # read, not inflated yet
        self.inflater = zlib.decompressobj(-15) if packed.method == zipfile.ZIP_DEFLATED else None
        self.position = self.crc = 0
        self.ended = False

    def read(self, size=-1):
        if self.ended or size == 0:
            return b""
        wanted = self.packed.size - self.position
        if size is not None and size >= 0:
            wanted = min(size, wanted)
        parts, got = [], 0
        try:
            while got < wanted:
                data = self._inflate(wanted - got)
                if not data:
                    break
                parts.append(data)
                got += len(data)
            data = b"".join(parts)
            self.position += len(data)
            self.crc = zlib.crc32(data, self.crc)
            if got < wanted or self.position >= self.packed.size:
                self._end()
        except zlib.error as exc:
            raise DamagedMember(str(exc)) from exc
        return data

    def _compressed(self, size):
        self.raw.seek(self.offset)  # the archive's file may be read elsewhere in between
        chunk = self.raw.read(min(size, self.left))
        if not chunk:
            raise DamagedMember("the archive ends inside the member")
        self.offset += len(chunk)
        self.left -= len(chunk)
        return chunk

    def _inflate(self, size):
        """At most ``size`` more bytes of the member; b"" once its compressed bytes are used up."""
        if self.inflater is None:  # stored
            return self._compressed(size) if self.left > 0 else b""
        while True:
            if not self.pending:
                if self.left <= 0:
                    return b""
                self.pending = self._compressed(self.CHUNK)
            data = self.inflater.decompress(self.pending, size)
            self.pending = self.inflater.unconsumed_tail
            if data:
                return data

    def _end(self):
        """All the member was read: nothing more may inflate, and it is what the directory said."""
        more = b""
        if self.inflater is None:
            more = b"-" if self.left > 0 else b""
        else:
            while not more and (self.pending or self.left > 0):
                if not self.pending:
                    self.pending = self._compressed(self.CHUNK)
                more = self.inflater.decompress(self.pending, 1)
                self.pending = self.inflater.unconsumed_tail
            more = more or self.inflater.flush()
        if more:
            raise DamagedMember("the member inflates to more than its size")
        if self.position != self.packed.size or self.crc != self.packed.crc:
            raise DamagedMember("the member's size or CRC-32 differs from the archive's directory")
        self.ended = True

    def close(self):
        if not self.closed:
            self.closed = True
            if self.close_raw:
                self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _read_exactly(raw, size):
    data = raw.read(size)
    if len(data) != size:
        raise DamagedMember("the archive ends inside the member")
    return data


#: The central directory is read in blocks of this size (11 MB for 118,000 entries).
DIRECTORY_BLOCK = 64 * 1024
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_SIGNATURE = b"PK\x05\x06"
_END64_SIGNATURE = b"PK\x06\x06"
#: The zip64 end record and its locator, between the directory and the end record.
_END64_SIZE = 56 + 20
_ZIP64_EXTRA = 0x0001


class Directory:
    """
    The central directory of an archive (``raw``, open for reading), as
    :class:`zipfile.ZipInfo` entries an entry at a time: each pass over it reads it
    again, in blocks of :data:`DIRECTORY_BLOCK`, and keeps no entry. The entries are the
    ones :meth:`zipfile.ZipFile.infolist` gives (names decoded, zip64 sizes and offsets,
    data prepended to the archive), and a damaged directory raises the errors
    :class:`zipfile.ZipFile` raises, with its messages.
    """

    def __init__(self, raw):
        self.raw = raw
        try:
            # The end record (and its zip64 form) as ZipFile finds it: it keeps nothing per entry.
            end = zipfile._EndRecData(raw)  # pylint: disable=protected-access
        except OSError:
            raise zipfile.BadZipFile("File is not a zip file") from None
        if not end:
            raise zipfile.BadZipFile("File is not a zip file")
        signature, _disk, _disk_start, _on_disk, self.declared, self.size, offset = end[:7]
        location = end[-1]
        # Data before the archive (a self-extracting stub) shifts every offset.
        self.concat = location - self.size - offset
        if signature == _END64_SIGNATURE:
            self.concat -= _END64_SIZE
        self.start = offset + self.concat
        if self.start < 0:
            raise zipfile.BadZipFile("Bad offset for central directory")

    def __iter__(self):
        stream = _Window(self.raw, self.start, self.size)
        total = 0
        header_size = _CENTRAL_HEADER.size
        while total < self.size:
            if not stream.holds(header_size):
                raise zipfile.BadZipFile("Truncated central directory")
            fields = _CENTRAL_HEADER.unpack_from(stream.buffer, stream.offset)
            if fields[0] != _CENTRAL_SIGNATURE:
                raise zipfile.BadZipFile("Bad magic number for central directory")
            name_length, extra_length, comment_length = fields[12:15]
            if stream.holds(header_size + name_length + extra_length + comment_length):
                # The whole entry is in the block: sliced out of it, not read field by field.
                buffer, start = stream.buffer, stream.offset + header_size
                name = buffer[start : start + name_length]
                start += name_length
                extra = buffer[start : start + extra_length]
                start += extra_length
                comment = buffer[start : start + comment_length]
                stream.offset = start + comment_length
            else:  # the directory ends inside the entry: what there is, as ZipFile reads it
                stream.read(header_size)
                name = stream.read(name_length)
                extra = stream.read(extra_length)
                comment = stream.read(comment_length)
            info = zipfile.ZipInfo(name.decode("utf-8" if fields[5] & _UTF8_NAME_FLAG else "cp437"))
            info.extra = extra
            info.comment = comment
            (
                info.create_version, info.create_system, info.extract_version, info.reserved,
                info.flag_bits, info.compress_type, time, date, info.CRC, info.compress_size, info.file_size,
            ) = fields[1:12]  # fmt: skip
            if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
                raise NotImplementedError(f"zip file version {info.extract_version / 10:.1f}")
            info.volume, info.internal_attr, info.external_attr, info.header_offset = fields[15:19]
            info.date_time = (
                (date >> 9) + 1980, (date >> 5) & 0xF, date & 0x1F,
                time >> 11, (time >> 5) & 0x3F, (time & 0x1F) * 2,
            )  # fmt: skip
            _read_zip64(info)
            info.header_offset += self.concat
            total += _CENTRAL_HEADER.size + name_length + extra_length + comment_length
            yield info


def _read_zip64(info):
    """Sizes and offset too big for the header are in the zip64 extra field (as ZipFile reads them)."""
    extra = info.extra
    while len(extra) >= 4:
        kind, length = struct.unpack("<HH", extra[:4])
        if length + 4 > len(extra):
            raise zipfile.BadZipFile(f"Corrupt extra field {kind:04x} (size={length})")
        if kind == _ZIP64_EXTRA:
            data = extra[4 : length + 4]
            try:
                if info.file_size in (0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF):
                    field = "File size"
                    (info.file_size,) = struct.unpack("<Q", data[:8])
                    data = data[8:]
                if info.compress_size == 0xFFFF_FFFF:
                    field = "Compress size"
                    (info.compress_size,) = struct.unpack("<Q", data[:8])
                    data = data[8:]
                if info.header_offset == 0xFFFF_FFFF:
                    field = "Header offset"
                    (info.header_offset,) = struct.unpack("<Q", data[:8])
            except struct.error:
                raise zipfile.BadZipFile(f"Corrupt zip64 extra field. {field} not found.") from None
        extra = extra[length + 4 :]


class _Window:
    """
    ``size`` bytes of ``raw`` from ``start``, read in blocks: the directory's place is
    sought again for every block, as members are read from the same file in between.
    """

    def __init__(self, raw, start, size):
        self.raw = raw
        self.position = start
        self.left = size
        self.buffer = b""
        self.offset = 0

    def holds(self, size):
        """Whether the next ``size`` bytes are in :attr:`buffer` from :attr:`offset` (read in if need be)."""
        if len(self.buffer) - self.offset < size:
            self._fill(size)
        return len(self.buffer) - self.offset >= size

    def read(self, size):
        self._fill(size)
        data = self.buffer[self.offset : self.offset + size]
        self.offset += len(data)
        return data

    def _fill(self, size):
        while len(self.buffer) - self.offset < size and self.left > 0:
            self.raw.seek(self.position)
            block = self.raw.read(min(self.left, max(DIRECTORY_BLOCK, size)))
            if not block:
                self.left = 0  # the file ends before the directory does
                break
            self.position += len(block)
            self.left -= len(block)
            self.buffer = self.buffer[self.offset :] + block
            self.offset = 0


class _MemberReader(zipfile.ZipFile):
    """
    :class:`zipfile.ZipFile` for reading members given by their :class:`~zipfile.ZipInfo`
    (every compression method it knows, the local header's name and the CRC-32
    checked), without its own reading of the directory, which keeps every entry:
    :class:`Directory` gives them one at a time. The check newer Pythons make that a
    member does not overlap the next one needs every entry and is not made: the limits
    on the bytes inflated bound what overlapping members can amount to.
    """

    def _RealGetContents(self):  # pylint: disable=invalid-name
        """Called by ``ZipFile.__init__`` to read the whole directory: nothing to do here."""


@dataclass(frozen=True)
class Limits:
    max_total: int
    max_members: int
    max_ratio: float

    @classmethod
    def from_conf(cls):
        return cls(
            max_total=int(conf.get("ONEC_MAX_UNZIPPED_SIZE")),
            max_members=int(conf.get("ONEC_MAX_ZIP_MEMBERS")),
            max_ratio=float(conf.get("ONEC_MAX_ZIP_RATIO")),
        )


@dataclass(slots=True)
class Member:
    info: zipfile.ZipInfo
    name: str


@dataclass
class Plan:
    """
    What the central directory promises: how many members to write and their sizes, and
    the hashes of the names that may come more than once (:class:`_Repeats`).
    """

    archive_name: str
    members: int = 0
    total_size: int = 0
    compressed_size: int = 0
    repeats: set[int] = field(default_factory=set)


class _Repeats:
    """
    Which names an archive may give more than once, found in the pass that checks its
    directory without keeping the names. Each name sets one bit of a table of
    :attr:`BITS` bits a member (236 KB for 118,000 members); a name whose bit is set
    already may repeat one before it, and only its hash is kept: the true repeats, and
    the few names (3% of 118,000) that merely fell on a bit taken. Unpacking keeps the
    names with such a hash, to tell the repeats from the rest. A table too small (the
    end record understates the entries) costs memory, never a wrong answer.
    """

    BITS = 16
    MIN_SIZE = 8 * 1024

    def __init__(self, expected):
        self.size = max(expected * self.BITS, self.MIN_SIZE)
        self.table = bytearray((self.size + 7) // 8)
        self.hashes = set()

    def add(self, name):
        key = hash(name)
        byte, bit = divmod(key % self.size, 8)
        if self.table[byte] >> bit & 1:
            self.hashes.add(key)
        else:
            self.table[byte] |= 1 << bit


def member_name(info):
    """
    The member's name as 1C meant it. Zip names without the UTF-8 flag are in the
    writer's OEM code page; Windows (and 1C on it) in a Russian locale writes cp866,
    which :mod:`zipfile` has decoded as cp437.
    """
    name = info.filename
    if not info.flag_bits & _UTF8_NAME_FLAG and not name.isascii():
        try:
            name = name.encode("cp437").decode("cp866")
        except UnicodeError:
            pass
    return name


def format_size(size):
    """Bytes in words an operator reads at a glance: ``5 368 709 120 байт (5.0 ГБ)``."""
    for unit, scale in (("ГБ", 1024**3), ("МБ", 1024**2), ("КБ", 1024)):
        if size >= scale:
            return f"{size:,} байт ({size / scale:.1f} {unit})".replace(",", " ")
    return f"{size} байт"


def inspect(directory, archive_name, limits):
    """
    Check a :class:`Directory` an entry at a time; return the plan. As when the entries
    were all read first: the number of entries is checked before any entry, then the
    entries in their order, then the totals.
    """
    plan = Plan(archive_name)
    repeats = _Repeats(min(directory.declared, limits.max_members))
    entries, refused = 0, None
    for info in directory:
        entries += 1
        if refused is not None:
            continue  # counted still: too many entries is the reason given first
        try:
            member = _member(info, archive_name, limits)
        except ArchiveRejected as exc:
            refused = exc
            continue
        if member is None:
            continue
        repeats.add(member.name)
        plan.members += 1
        plan.total_size += info.file_size
        plan.compressed_size += info.compress_size
    if entries > limits.max_members:
        raise ArchiveRejected(
            archive_name,
            f"в архиве {entries} файлов, больше предела ONEC_MAX_ZIP_MEMBERS = {limits.max_members}",
        )
    if refused is not None:
        raise refused
    _check_total(archive_name, plan.total_size, limits)
    _check_ratio(archive_name, None, plan.total_size, plan.compressed_size, limits)
    plan.repeats = repeats.hashes
    return plan


def _member(info, archive_name, limits):
    """The member a directory entry describes (None for a folder), or :class:`ArchiveRejected`."""
    raw_name = member_name(info)
    try:
        name = clean_name(raw_name.rstrip("/") if info.is_dir() else raw_name)
    except UnsafeName as exc:
        raise ArchiveRejected(archive_name, f"недопустимое имя «{raw_name}» в архиве: {exc.reason}") from exc
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveRejected(
            archive_name, f"«{name}» — символическая ссылка; ссылки в архиве не принимаются"
        )
    if info.is_dir():
        return None
    if name == archive_name:
        raise ArchiveRejected(archive_name, f"архив содержит файл с собственным именем «{name}»")
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise ArchiveRejected(archive_name, f"«{name}» зашифрован паролем")
    _check_ratio(archive_name, name, info.file_size, info.compress_size, limits)
    return Member(info, name)


def extract(
    folder,
    archive_name,
    limits,
    max_inline_bytes=None,
    max_inline_members=None,
    leave_packed=None,
    register=None,
    batch=2000,
):
    """
    Unpack ``archive_name`` of an :class:`~.uploads.UploadFolder` into the same folder;
    return ``[(member name, size, Packed or None)]``. Raise :class:`ArchiveRejected`
    (nothing left behind) or, when the archive promises more bytes or members than the
    ``max_inline_*`` given, :class:`UnpackLater` before writing anything.

    Members whose name ``leave_packed(name)`` accepts are not written when the folder is
    on a local disk and their compression is one :func:`read_packed` reads: their
    :class:`Packed` place is returned instead.

    With ``register``, the members are handed to it ``batch`` at a time as they are done,
    with the names of the batch that the archive may have given in an earlier batch
    (``register(members, repeated)``: a name repeated in the archive comes again, and
    its last copy is the one that counts), and the number of members is returned: what
    is kept meanwhile is one batch, not every member (about 2 bytes a member are left,
    see :class:`_Repeats`).
    """
    packable = leave_packed if leave_packed is not None and folder.local else None
    unpacking = None
    try:
        with folder.open(archive_name, "rb") as raw:
            directory = Directory(raw)
            if max_inline_members is not None and directory.declared > max_inline_members:
                # The end record's count of entries (folders included) says so before any
                # pass over the directory: the pass took 0.1 s of the call that unpacks
                # inline for the 11,800 entries of a 10k archive, while the exchange waited
                # to hand it to the worker, which reads the directory again anyway.
                raise UnpackLater(archive_name)
            plan = inspect(directory, archive_name, limits)
            if (max_inline_bytes is not None and plan.total_size > max_inline_bytes) or (
                max_inline_members is not None and plan.members > max_inline_members
            ):
                raise UnpackLater(archive_name)
            unpacking = _Unpacking(folder, directory, plan, limits, packable)
            try:
                with _MemberReader(raw) as archive:
                    return unpacking.run(archive, register, batch)
            except BaseException:
                # ``register`` failing included: its rows roll back with the caller's transaction.
                unpacking.remove_written()
                raise
    except (ArchiveRejected, UnpackLater):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error) as exc:
        raise ArchiveRejected(archive_name, f"файл повреждён или не является zip-архивом ({exc})") from exc
    except OSError as exc:
        writing = unpacking.writing if unpacking is not None else None
        where = f" «{writing}»" if writing else ""
        raise ArchiveRejected(archive_name, f"не удалось записать{where}: {exc}") from exc


class _Unpacking:
    """
    The second pass over the directory: members written or left packed, in order. What
    it keeps is bounded by the batch: the names written so far are found again in the
    directory when a refusal removes them (:meth:`remove_written`), and only the names
    that may repeat (``plan.repeats``) are remembered, to count a repeated name once and
    to drop its earlier copy from the disk when its last one stays packed.
    """

    def __init__(self, folder, directory, plan, limits, packable):
        self.folder = folder
        self.directory = directory
        self.plan = plan
        self.limits = limits
        self.packable = packable
        self.budget = _Budget(plan, limits)
        self.position = -1  # the last entry of the directory taken up
        self.writing = None  # the last member whose writing began
        self.count = 0  # names, a repeated one once
        self.seen = set()  # names that may repeat, seen so far…
        self.on_disk = set()  # …and those of them written

    def packs(self, member):
        if self.packable is None or member.info.compress_type not in PACKABLE_METHODS:
            return False
        return self.packable(member.name)

    def run(self, archive, register, batch):
        pending = {}  # a name repeated in the archive is written twice: the last copy stays
        repeated = set()  # names of ``pending`` the archive may have given in an earlier batch
        for index, info in enumerate(self.directory):
            self.position = index
            member = _member(info, self.plan.archive_name, self.limits)
            if member is None:
                continue
            name = member.name
            repeatable = hash(name) in self.plan.repeats
            if not repeatable or name not in self.seen:
                self.count += 1
            if repeatable:
                if name in self.seen:
                    repeated.add(name)
                self.seen.add(name)
            if self.packs(member):
                if name in self.on_disk:
                    self.folder.discard(name)  # an earlier copy of the name was written
                    self.on_disk.discard(name)
                place = Packed(
                    self.plan.archive_name,
                    info.header_offset,
                    info.compress_size,
                    info.file_size,
                    info.CRC,
                    info.compress_type,
                )
                entry = (info.file_size, place)
            else:
                self.writing = name
                if repeatable:
                    self.on_disk.add(name)
                # Opened by its ZipInfo: the reader has no directory of its own.
                with archive.open(info) as source:
                    entry = (self.folder.write(name, _CheckedReader(source, member, self.budget)), None)
            pending.pop(name, None)
            pending[name] = entry
            if register is not None and len(pending) >= batch:
                register([(name, size, packed) for name, (size, packed) in pending.items()], repeated)
                pending, repeated = {}, set()
        if register is None:
            return [(name, size, packed) for name, (size, packed) in pending.items()]
        if pending:
            register([(name, size, packed) for name, (size, packed) in pending.items()], repeated)
        return self.count

    def remove_written(self):
        """Delete the members written so far (and the one being written), read again from the directory."""
        if self.writing is None:
            return
        try:
            for index, info in enumerate(self.directory):
                if index > self.position:
                    break
                member = _member(info, self.plan.archive_name, self.limits)
                if member is not None and not self.packs(member):
                    try:
                        self.folder.discard(member.name)
                    except OSError:
                        pass
        except (ArchiveRejected, zipfile.BadZipFile, NotImplementedError, OSError):
            pass  # the directory read the same twice already: only a failing disk gets here


def _check_total(archive_name, total, limits):
    if total > limits.max_total:
        raise ArchiveRejected(
            archive_name,
            f"распакованный размер {format_size(total)} больше предела "
            f"ONEC_MAX_UNZIPPED_SIZE = {format_size(limits.max_total)}",
        )


def _check_ratio(archive_name, name, size, compressed, limits):
    if size <= RATIO_MIN_BYTES:
        return
    ratio = size / max(compressed, 1)
    if ratio > limits.max_ratio:
        what = f"«{name}» сжат" if name else "архив сжат"
        raise ArchiveRejected(
            archive_name,
            f"{what} в {ratio:.0f} раз, больше предела ONEC_MAX_ZIP_RATIO = {limits.max_ratio:g} "
            "(похоже на zip-бомбу)",
        )


class _Budget:
    """Bytes actually inflated so far, checked against the same limits as the headers."""

    def __init__(self, plan, limits):
        self.plan = plan
        self.limits = limits
        self.total = 0

    def spend(self, member, member_bytes, count):
        self.total += count
        name = self.plan.archive_name
        if member_bytes > member.info.file_size:
            raise ArchiveRejected(
                name, f"«{member.name}» при распаковке больше, чем записано в заголовке архива"
            )
        _check_total(name, self.total, self.limits)
        _check_ratio(name, member.name, member_bytes, member.info.compress_size, self.limits)
        _check_ratio(name, None, self.total, self.plan.compressed_size, self.limits)


class _CheckedReader:
    """A member's stream that stops the moment the limits are crossed."""

    def __init__(self, source, member, budget):
        self.source = source
        self.member = member
        self.budget = budget
        self.count = 0

    def read(self, size=-1):
        data = self.source.read(size)
        self.count += len(data)
        self.budget.spend(self.member, self.count, len(data))
        return data
