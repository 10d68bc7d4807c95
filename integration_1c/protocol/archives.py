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

Pictures need not be unpacked at all (``leave_packed``): on a local disk a member
stored or deflated can be read in place at its offset in the archive
(:func:`read_packed`), so an exchange of 100,000 products does not write 118,000
files only for the import to read them once, and a picture the shop already has is
recognised by the size and CRC-32 the central directory gives (:class:`Packed`),
without inflating a byte.
"""

import io
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


def read_packed(raw, packed):
    """
    The content of a member left packed, from ``raw`` (the archive, opened for
    reading), as a file positioned at its start. Raises :class:`DamagedMember` when the
    bytes at that place are not the member the directory described (the archive was
    replaced, cut or forged): the inflated size and the CRC-32 are checked, and nothing
    beyond the promised size is ever inflated.
    """
    raw.seek(packed.offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(_read_exactly(raw, _LOCAL_HEADER.size))
    if signature != _LOCAL_SIGNATURE:
        raise DamagedMember("no local header at the member's offset")
    raw.seek(packed.offset + _LOCAL_HEADER.size + name_length + extra_length)
    inflater = zlib.decompressobj(-15) if packed.method == zipfile.ZIP_DEFLATED else None
    # A picture (most members) is held in memory; only a bigger member goes to a temporary file.
    out = io.BytesIO() if packed.size <= PACKED_SPOOL else tempfile.TemporaryFile()
    try:
        left, written, crc = packed.compressed_size, 0, 0
        while left > 0:
            chunk = raw.read(min(left, 1024 * 1024))
            if not chunk:
                raise DamagedMember("the archive ends inside the member")
            left -= len(chunk)
            if inflater is not None:
                chunk = inflater.decompress(chunk, packed.size - written + 1)
                if inflater.unconsumed_tail:
                    raise DamagedMember("the member inflates to more than its size")
            written += len(chunk)
            if written > packed.size:
                raise DamagedMember("the member inflates to more than its size")
            crc = zlib.crc32(chunk, crc)
            out.write(chunk)
        if inflater is not None:
            tail = inflater.flush()
            written += len(tail)
            crc = zlib.crc32(tail, crc)
            out.write(tail)
        if written != packed.size or crc != packed.crc:
            raise DamagedMember("the member's size or CRC-32 differs from the archive's directory")
    except zlib.error as exc:
        out.close()
        raise DamagedMember(str(exc)) from exc
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _read_exactly(raw, size):
    data = raw.read(size)
    if len(data) != size:
        raise DamagedMember("the archive ends inside the member")
    return data


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
    """What the central directory promises: the members to write and their sizes."""

    archive_name: str
    members: list[Member] = field(default_factory=list)
    total_size: int = 0
    compressed_size: int = 0


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


def inspect(archive, archive_name, limits):
    """Check the central directory of an open :class:`zipfile.ZipFile`; return the plan."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveRejected(
            archive_name,
            f"в архиве {len(infos)} файлов, больше предела ONEC_MAX_ZIP_MEMBERS = {limits.max_members}",
        )
    plan = Plan(archive_name)
    for info in infos:
        raw_name = member_name(info)
        try:
            name = clean_name(raw_name.rstrip("/") if info.is_dir() else raw_name)
        except UnsafeName as exc:
            raise ArchiveRejected(
                archive_name, f"недопустимое имя «{raw_name}» в архиве: {exc.reason}"
            ) from exc
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRejected(
                archive_name, f"«{name}» — символическая ссылка; ссылки в архиве не принимаются"
            )
        if info.is_dir():
            continue
        if name == archive_name:
            raise ArchiveRejected(archive_name, f"архив содержит файл с собственным именем «{name}»")
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise ArchiveRejected(archive_name, f"«{name}» зашифрован паролем")
        _check_ratio(archive_name, name, info.file_size, info.compress_size, limits)
        plan.members.append(Member(info, name))
        plan.total_size += info.file_size
        plan.compressed_size += info.compress_size
    _check_total(archive_name, plan.total_size, limits)
    _check_ratio(archive_name, None, plan.total_size, plan.compressed_size, limits)
    return plan


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

    With ``register``, the members are handed to it ``batch`` at a time as they are done
    (a name repeated in the archive may come again in a later batch: its last copy is
    the one that counts) and the number of members is returned: 118,000 pictures held
    in one list until the end were a fifth of the worker's memory.
    """
    written = []  # names, in order, so that a refusal can remove them
    on_disk = set()
    pending = {}  # a name repeated in the archive is written twice: the last copy stays
    names = set()
    packable = leave_packed if leave_packed is not None and folder.local else None
    try:
        with folder.open(archive_name, "rb") as raw, zipfile.ZipFile(raw) as archive:
            plan = inspect(archive, archive_name, limits)
            if (max_inline_bytes is not None and plan.total_size > max_inline_bytes) or (
                max_inline_members is not None and len(plan.members) > max_inline_members
            ):
                raise UnpackLater(archive_name)
            budget = _Budget(plan, limits)
            members, plan.members = plan.members, []
            # Members are opened by their ZipInfo, never by name: the directory's entries
            # go as the members are done instead of staying to the end.
            archive.NameToInfo.clear()
            del archive.filelist[:]
            for index, member in enumerate(members):
                members[index] = None  # done with: its directory entry may go
                info = member.info
                if packable is not None and info.compress_type in PACKABLE_METHODS and packable(member.name):
                    if member.name in on_disk:
                        folder.discard(member.name)  # an earlier copy of the name was written
                        on_disk.discard(member.name)
                    entry = (
                        info.file_size,
                        Packed(archive_name, info.header_offset, info.compress_size, info.file_size, info.CRC, info.compress_type),
                    )
                else:
                    written.append(member.name)
                    on_disk.add(member.name)
                    with archive.open(info) as source:
                        entry = (folder.write(member.name, _CheckedReader(source, member, budget)), None)
                pending.pop(member.name, None)
                pending[member.name] = entry
                names.add(member.name)
                if register is not None and len(pending) >= batch:
                    register([(name, size, packed) for name, (size, packed) in pending.items()])
                    pending = {}
            if register is not None and pending:
                register([(name, size, packed) for name, (size, packed) in pending.items()])
                pending = {}
    except (ArchiveRejected, UnpackLater):
        _remove(folder, written)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error) as exc:
        _remove(folder, written)
        raise ArchiveRejected(archive_name, f"файл повреждён или не является zip-архивом ({exc})") from exc
    except OSError as exc:
        _remove(folder, written)
        where = f" «{written[-1]}»" if written else ""
        raise ArchiveRejected(archive_name, f"не удалось записать{where}: {exc}") from exc
    except BaseException:
        _remove(folder, written)  # ``register`` failed: its rows roll back with the caller's transaction
        raise
    if register is not None:
        return len(names)
    return [(name, size, packed) for name, (size, packed) in pending.items()]


def _remove(folder, names):
    for name in names:
        try:
            folder.discard(name)
        except OSError:
            pass


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
