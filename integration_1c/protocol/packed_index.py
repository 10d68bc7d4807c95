"""
The pictures an archive left packed, by name: a SQLite file the exchange folder keeps
beside the archive, instead of a journal row for each.

Why: an archive of 100,000 products leaves its 118,000 pictures in place
(:func:`.pipeline.leave_packed`), and a row of ``ExchangeFile`` for each cost PostgreSQL
10–25 µs (two indexes, the foreign key to the session checked at the commit): 2–3 s of
every such exchange, in the worker, before its first XML file could start — and the
journal a hundred thousand rows an exchange that nobody reads (the admin counts the
pictures, it does not list them). A B-tree on the name in a local file is written in a
tenth of the time and read by the import a batch of names at a time
(``services.images.StorageImageSource``). Members are left packed only in a folder on a
local disk, so the index is always on one.

The file is the site's own: it lies in a reserved folder of the exchange folder
(:data:`INDEX_DIR`), which no name 1C sends can reach (``names.clean_name``), and goes
when the folder goes. It is written under a temporary name and put in place only whole
(:meth:`IndexWriter.commit`): an archive that was refused, or whose unpacking failed,
leaves none.
"""

import os
import sqlite3

from .archives import Packed
from .names import INDEX_DIR

#: Names looked up per statement (SQLite's limit on a statement's parameters is higher).
LOOKUP_CHUNK = 500

_COLUMNS = "name, offset, compressed_size, size, crc, method"


def index_name(archive_id):
    """The index of the archive whose journal row is ``archive_id``, inside its exchange folder."""
    return f"{INDEX_DIR}/{int(archive_id)}.sqlite3"


def index_path(storage, folder, archive_id):
    """The index's file on disk, for the exchange folder ``folder`` of a local ``storage``."""
    relative = index_name(archive_id)
    return storage.path(f"{folder}/{relative}" if folder else relative)


class IndexWriter:
    """
    Writes an archive's index as its members are unpacked: :meth:`add` a batch at a
    time, in the archive's order (a name the archive repeats keeps its last copy, as on
    disk), then :meth:`commit` or :meth:`discard`.
    """

    def __init__(self, path):
        self.path = path
        self.part = f"{path}.part"
        self.count = None  # the names it holds, once committed
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _remove(self.part)
        # A file that is put in place only whole needs no journal and no syncs.
        self._db = sqlite3.connect(self.part, isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE member (name TEXT PRIMARY KEY, offset INTEGER NOT NULL,"
            " compressed_size INTEGER NOT NULL, size INTEGER NOT NULL, crc INTEGER NOT NULL,"
            " method INTEGER NOT NULL) WITHOUT ROWID;"
            "BEGIN;"
        )

    def add(self, members):
        """``members``: ``(name, Packed)`` pairs."""
        self._db.executemany(
            f"INSERT OR REPLACE INTO member ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (name, packed.offset, packed.compressed_size, packed.size, packed.crc, packed.method)
                for name, packed in members
            ],
        )

    def forget(self, names):
        """Names the archive gives again, this time as a member that is unpacked: its last copy counts."""
        self._db.executemany("DELETE FROM member WHERE name = ?", [(name,) for name in names])

    def commit(self):
        """Put the index in place (a previous index of the same archive is replaced); :attr:`count` set."""
        self.count = self._db.execute("SELECT count(*) FROM member").fetchone()[0]
        self._db.execute("COMMIT")
        self._db.close()
        os.replace(self.part, self.path)

    def discard(self):
        """Leave no index: the archive was refused or its unpacking failed."""
        try:
            self._db.close()
        finally:
            _remove(self.part)
            _remove(self.path)


class PackedIndex:
    """An archive's index, read: :meth:`find` the places of a batch of names."""

    def __init__(self, path, archive_name):
        self.archive_name = archive_name
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        # The file is in the system's page cache anyway: SQLite's own cache of it is kept
        # small, as the worker's memory must not grow with the catalogue.
        self._db.execute("PRAGMA cache_size = -512")

    @classmethod
    def open(cls, path, archive_name):
        """The index at ``path``, or None when the archive has none (nothing was left packed)."""
        if not os.path.isfile(path):
            return None
        try:
            return cls(path, archive_name)
        except sqlite3.Error:
            return None

    def find(self, names):
        """``{name: Packed}`` of those of ``names`` the archive left packed."""
        names = list(names)
        found = {}
        for start in range(0, len(names), LOOKUP_CHUNK):
            chunk = names[start : start + LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for name, offset, compressed, size, crc, method in self._db.execute(
                f"SELECT {_COLUMNS} FROM member WHERE name IN ({marks})", chunk
            ):
                found[name] = Packed(self.archive_name, offset, compressed, size, crc, method)
        return found

    def count(self):
        return self._db.execute("SELECT count(*) FROM member").fetchone()[0]

    def close(self):
        self._db.close()


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
