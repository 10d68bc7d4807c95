"""
The next file of an exchange read before its turn (``services.reading.start_reading_ahead``
and ``read_spooled``): the same records in the same order as parsing it in its turn,
the reader's errors at the same record, and whatever happens to the process that wrote
the spool (killed, starved of CPU, stopped early) the import gets every record once
and nothing is left behind — no process, no spool.
"""

import io
import os
import signal
import tempfile
import time

import pytest
from django.utils import translation

from integration_1c.commerceml.reader import CommerceMLError, iter_records
from integration_1c.services import reading
from integration_1c.testing.generator import generate_exchange

from tests.commerceml.builders import OFFERS, cml
from tests.processes import child_pids


@pytest.fixture(autouse=True)
def spools(tmp_path, monkeypatch):
    """Spools in a folder of the test's own; every file is big enough to be read by a process."""
    folder = tmp_path / "spools"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setattr(reading, "PROCESS_MIN_BYTES", 1)
    others = set(child_pids())
    yield folder
    for spool, pid in list(reading._writers.items()):
        reading._discard_spool(spool)
    assert not [pid for pid in child_pids() if pid not in others], "a reading process was left behind"


@pytest.fixture
def exchange(tmp_path):
    return generate_exchange(tmp_path / "exchange", products=300, images=False, seed=5)


def direct(path):
    return [repr(record) for record in iter_records(path)]


def wait_for_writer(spool):
    pid = reading._writers.pop(spool)
    os.waitpid(pid, 0)


def test_a_file_read_ahead_gives_its_records_from_the_spool_and_leaves_nothing(exchange, spools):
    path = exchange.dir / "offers.xml"
    spool = reading.start_reading_ahead(path, name="offers.xml", chunk=16)
    assert spool is not None and spool.parent == spools
    assert reading.spooled(path) == spool
    records = reading.read_spooled(spool, path, name="offers.xml", depth=2)
    given, positions = [], []
    for record in records:
        given.append(repr(record))
        positions.append(records.tell())
    assert given == direct(path)
    assert positions == sorted(positions) and positions[-1] == path.stat().st_size
    assert records._rest is None  # nothing was parsed here
    assert not list(spools.iterdir()) and not reading._writers


def test_the_spool_is_read_as_it_is_written(exchange, spools, monkeypatch):
    """An import that catches up with the writer waits for it, and gets the rest from it."""
    monkeypatch.setattr(reading, "SPOOL_STARVED_SECONDS", 60)
    path = exchange.dir / "import.xml"
    spool = reading.start_reading_ahead(path, chunk=1)
    records = reading.read_spooled(spool, path, depth=1)
    assert [repr(record) for record in records] == direct(path)
    assert records._rest is None


def test_a_file_changed_since_it_was_read_ahead_is_parsed_in_its_turn(exchange, spools):
    path = exchange.dir / "offers.xml"
    spool = reading.start_reading_ahead(path)
    wait_for_writer(spool)
    path.write_bytes(path.read_bytes().replace(b"</", b"\n</", 1))  # 1C sent the file again
    assert reading.spooled(path) is None
    spool.unlink()


def test_a_file_is_read_ahead_once_and_one_at_a_time(exchange, spools):
    first = reading.start_reading_ahead(exchange.dir / "offers.xml")
    assert first is not None
    assert reading.start_reading_ahead(exchange.dir / "import.xml") is None  # one writer at a time
    wait_for_writer(first)
    assert reading.start_reading_ahead(exchange.dir / "offers.xml") is None  # its spool is there
    reading._discard_spool(first)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_reader_error_reaches_the_importer_from_the_spool_in_its_language(tmp_path, spools, language):
    broken = tmp_path / "offers.xml"
    broken.write_bytes(cml(OFFERS)[:-200])
    with translation.override(language):
        with pytest.raises(CommerceMLError) as expected:
            list(iter_records(io.BytesIO(broken.read_bytes()), name="offers.xml"))
        spool = reading.start_reading_ahead(broken, name="offers.xml", chunk=1)
        seen = []
        with pytest.raises(CommerceMLError) as raised:
            for record in reading.read_spooled(spool, broken, name="offers.xml"):
                seen.append(record)
    assert str(raised.value) == str(expected.value)
    assert seen
    assert not list(spools.iterdir())


def test_an_import_that_stops_early_stops_the_writer_and_removes_the_spool(exchange, spools, monkeypatch):
    writes = reading._spool_sender

    def slow_after_the_first_chunk(out):
        send = writes(out)
        sent = []

        def slow(item):
            if sent:
                time.sleep(30)  # a writer still at work when its import stops
            sent.append(send(item))

        return slow

    monkeypatch.setattr(reading, "_spool_sender", slow_after_the_first_chunk)
    monkeypatch.setattr(reading, "SPOOL_STARVED_SECONDS", 60)
    path = exchange.dir / "import.xml"
    spool = reading.start_reading_ahead(path, chunk=4)
    pid = reading._writers[spool]

    class WriteFailed(Exception):
        pass

    with pytest.raises(WriteFailed):
        for index, _record in enumerate(reading.read_spooled(spool, path)):
            if index == 2:
                raise WriteFailed
    assert not spool.exists() and not reading._writers
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # stopped and collected


def test_records_after_a_writer_died_are_parsed_here_each_once(exchange, spools, monkeypatch):
    """A writer killed half-way (the OOM killer): the import parses the rest itself."""
    path = exchange.dir / "import.xml"
    expected = direct(path)
    spool = reading.spool_path(path)
    with open(spool, "wb", buffering=0) as out:  # what a writer left: two chunks, no end
        send = reading._spool_sender(out)
        records = list(iter_records(path))
        send((100, records[:5]))
        send((200, records[5:12]))
        out.write(b"\x10\x00")  # and half of the next frame's length
    with translation.override("ru"):
        given = [repr(record) for record in reading.read_spooled(spool, path, name="import.xml")]
    assert given == expected
    assert not spool.exists()


def test_a_writer_starved_of_cpu_is_not_waited_for(exchange, spools, monkeypatch):
    """
    The writer runs on idle CPU only; on a machine busy with shoppers it may get none.
    The import waits :data:`SPOOL_STARVED_SECONDS` for it at most, then parses itself.
    """
    import fcntl

    monkeypatch.setattr(reading, "SPOOL_STARVED_SECONDS", 0.3)
    path = exchange.dir / "offers.xml"
    spool = reading.spool_path(path)
    with open(spool, "wb") as held:  # a writer that holds its lock and writes nothing
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        given = [repr(record) for record in reading.read_spooled(spool, path)]
        waited = time.monotonic() - started
    assert given == direct(path)
    assert 0.3 <= waited < 10
    assert not spool.exists()


def test_a_writer_that_cannot_write_its_spool_leaves_the_file_to_its_import(exchange, spools, monkeypatch):
    """A full disk: the writer stops, and the import parses the file in its turn."""

    def full_disk(out):
        def send(item):
            raise reading.SpoolFailed("No space left on device")

        return send

    monkeypatch.setattr(reading, "_spool_sender", full_disk)
    path = exchange.dir / "offers.xml"
    spool = reading.start_reading_ahead(path)
    given = [repr(record) for record in reading.read_spooled(spool, path)]
    assert given == direct(path)
    assert not spool.exists()


def test_spools_nobody_came_for_are_removed_later(exchange, spools):
    forgotten = spools / f"{reading.SPOOL_PREFIX}forgotten.pickles"
    forgotten.write_bytes(b"\x00")
    recent = spools / f"{reading.SPOOL_PREFIX}recent.pickles"
    recent.write_bytes(b"\x00")
    hour_ago = time.time() - reading.SPOOL_STALE_SECONDS - 1
    os.utime(forgotten, (hour_ago, hour_ago))
    spool = reading.start_reading_ahead(exchange.dir / "offers.xml")
    assert not forgotten.exists() and recent.exists()
    reading._discard_spool(spool)


def test_nothing_is_read_ahead_where_no_process_may_be_forked(exchange, spools):
    """The embedded shop imports in a thread of its web server, which must not fork."""
    import threading

    started = []
    thread = threading.Thread(target=lambda: started.append(reading.start_reading_ahead(exchange.dir / "offers.xml")))
    thread.start()
    thread.join()
    assert started == [None] and not list(spools.iterdir())


def test_a_killed_writer_leaves_its_import_every_record(exchange, spools, monkeypatch):
    monkeypatch.setattr(reading, "SPOOL_STARVED_SECONDS", 60)
    path = exchange.dir / "import.xml"
    spool = reading.start_reading_ahead(path, chunk=1)
    records = iter(reading.read_spooled(spool, path, depth=1))
    given = [repr(next(records))]
    os.kill(reading._writers[spool], signal.SIGKILL)
    given += [repr(record) for record in records]
    assert given == direct(path)
