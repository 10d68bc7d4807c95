"""
The importer reads a file's records ahead of its writes (``services.reading``), in a
thread (``read_ahead``) or in a forked process (``read_in_process``): the same records
in the same order as reading them in place, the reader's errors raised to the importer
with the same message (in the importer's language), and a consumer that stops early
leaves no thread or process behind. A reading process that dies says so.
"""

import io
import multiprocessing
import os
import pickle
import signal
import threading
from dataclasses import fields
from decimal import Decimal

import pytest
from django.utils import translation

from integration_1c.commerceml import records as rec
from integration_1c.commerceml.reader import CommerceMLError, iter_records
from integration_1c.services import reading
from integration_1c.services.reading import read_ahead, read_in_process
from integration_1c.testing.generator import generate_exchange

from tests.commerceml.builders import OFFERS, cml
from tests.processes import child_pids


_OTHERS = set()


@pytest.fixture(autouse=True)
def other_children():
    """Processes other tests left running (a browser, a worker) are not readers."""
    _OTHERS.clear()
    _OTHERS.update(child_pids())


def readers():
    threads = [thread for thread in threading.enumerate() if thread.name == "1c-reader"]
    return threads + [pid for pid in child_pids() if pid not in _OTHERS]


def in_thread(path, name="", **kwargs):
    return read_ahead(iter_records(path, name=name), **kwargs)


def in_process(path, name="", **kwargs):
    return iter(read_in_process(path, name=name, **kwargs))


READERS = pytest.mark.parametrize("read", [in_thread, in_process], ids=["thread", "process"])


@READERS
def test_the_same_records_in_the_same_order(tmp_path, read):
    exchange = generate_exchange(tmp_path, products=300, images=False, seed=5)
    for path in exchange.files:
        direct = [repr(record) for record in iter_records(path)]
        ahead = [repr(record) for record in read(path, chunk=7, depth=2)]
        assert ahead == direct
    assert not readers()


RECORDS = [
    rec.Document(kind=rec.OFFERS, changes_only=True, name="Пакет"),
    rec.Notice("cut"),
    rec.Product(id="p#c", name="Куртка", product_id="p", characteristic_id="c", images=[rec.Image("a.jpg")]),
    rec.Product(id="p", name="", requisites={"Полное наименование": "Куртка зимняя"}, active=False),
    rec.Offer(
        id="p#c",
        product_id="p",
        characteristic_id="c",
        prices=[rec.Price("retail", Decimal("10.50"), "KZT", coefficient=Decimal("1"))],
        stocks=[("w1", Decimal("0")), ("w2", Decimal("3"))],
        quantity=None,
    ),
    rec.Group(id="g", name="Одежда", parent_id=None, position=3),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: type(record).__name__)
def test_records_travel_as_their_field_values(record):
    """
    The reading process pickles records to the importer: as the class and the values of
    its fields (cheaper to unpickle than a slotted object's state), and equal on arrival.
    """
    rebuild, values = record.__reduce__()
    assert rebuild is type(record)
    assert values == tuple(getattr(record, f.name) for f in fields(record))
    arrived = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert arrived == record and repr(arrived) == repr(record)


@READERS
@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_reader_error_reaches_the_importer_in_its_language(tmp_path, read, language):
    broken = tmp_path / "offers.xml"
    broken.write_bytes(cml(OFFERS)[:-200])
    with translation.override(language):
        with pytest.raises(CommerceMLError) as direct:
            list(iter_records(io.BytesIO(broken.read_bytes()), name="offers.xml"))
        seen = []
        with pytest.raises(CommerceMLError) as ahead:
            for record in read(broken, name="offers.xml", chunk=1):
                seen.append(record)
    assert str(ahead.value) == str(direct.value)
    assert seen  # the records before the error came first, as they would
    assert not readers()


@READERS
def test_a_consumer_that_stops_early_stops_the_reader(tmp_path, read):
    exchange = generate_exchange(tmp_path, products=300, images=False, seed=5)
    records = read(exchange.dir / "offers.xml", chunk=4, depth=1)
    assert next(records) is not None
    records.close()
    assert not readers()

    class WriteFailed(Exception):
        pass

    with pytest.raises(WriteFailed):
        for index, _record in enumerate(read(exchange.dir / "import.xml", chunk=4)):
            if index == 10:
                raise WriteFailed
    assert not readers()


def test_a_reading_process_that_dies_is_reported(tmp_path):
    exchange = generate_exchange(tmp_path, products=300, images=False, seed=5)
    records = in_process(exchange.dir / "import.xml", name="import.xml", chunk=4, depth=1)
    assert next(records) is not None
    (pid,) = [pid for pid in child_pids() if pid not in _OTHERS]
    os.kill(pid, signal.SIGKILL)
    with translation.override("ru"), pytest.raises(reading.ReaderStopped) as stopped:
        for _record in records:
            pass
    assert str(stopped.value) == "import.xml: процесс, читавший файл, остановился (код завершения -9)"
    assert not readers()


def test_progress_follows_the_reading_process(tmp_path):
    exchange = generate_exchange(tmp_path, products=300, images=False, seed=5)
    path = exchange.dir / "import.xml"
    records = read_in_process(path, name="import.xml", chunk=16)
    positions = []
    for _record in records:
        positions.append(records.tell())
    assert positions == sorted(positions) and positions[-1] == path.stat().st_size


def test_big_local_files_are_read_by_a_process_small_ones_by_a_thread(tmp_path, monkeypatch):
    small = tmp_path / "offers.xml"
    small.write_bytes(cml(OFFERS))
    assert not reading.can_fork(str(small))
    assert not reading.can_fork("")  # a storage without local paths
    monkeypatch.setattr(reading, "PROCESS_MIN_BYTES", 1)
    assert reading.can_fork(str(small))
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(reading.can_fork(str(small))))
    thread.start()
    thread.join()
    assert outcome == [False]  # the embedded shop imports in a thread of its web server


def test_a_reading_process_whose_importer_is_gone_ends(tmp_path):
    """A worker killed mid-import (kill -9) leaves no reading process waiting for ever."""
    exchange = generate_exchange(tmp_path, products=300, images=False, seed=5)
    ready, done = multiprocessing.get_context("fork").Pipe(duplex=False)
    importer = multiprocessing.get_context("fork").Process(
        target=_import_and_vanish, args=(str(exchange.dir / "import.xml"), done)
    )
    importer.start()
    reader_pid = ready.recv()
    importer.join(timeout=30)
    assert importer.exitcode == -signal.SIGKILL
    for _ in range(100):
        try:
            os.kill(reader_pid, 0)
        except ProcessLookupError:
            break
        try:
            os.waitpid(reader_pid, os.WNOHANG)
        except ChildProcessError:
            pass
        threading.Event().wait(0.1)
    else:
        os.kill(reader_pid, signal.SIGKILL)
        pytest.fail("the reading process outlived its importer")


def _import_and_vanish(path, done):
    """An importer that takes one record of a reading process and is killed at once."""
    records = in_process(path, chunk=1, depth=1)
    next(records)
    (pid,) = child_pids()
    done.send(pid)
    os.kill(os.getpid(), signal.SIGKILL)
