"""
The importer reads a file's records in a thread of their own (``importer.read_ahead``):
the same records in the same order as reading them in place, the reader's errors raised
to the importer with the same message (in the importer's language), and a consumer that
stops early leaves no thread behind.
"""

import io
import threading

import pytest
from django.utils import translation

from integration_1c.commerceml.reader import CommerceMLError, iter_records
from integration_1c.services.importer import read_ahead
from integration_1c.testing.generator import generate_exchange

from tests.commerceml.builders import OFFERS, cml


def reader_threads():
    return [thread for thread in threading.enumerate() if thread.name == "1c-reader"]


def test_the_same_records_in_the_same_order(tmp_path):
    exchange = generate_exchange(tmp_path, products=300, images=False, seed=5)
    for path in exchange.files:
        direct = [repr(record) for record in iter_records(path)]
        ahead = [repr(record) for record in read_ahead(iter_records(path), chunk=7, depth=2)]
        assert ahead == direct
    assert not reader_threads()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_reader_error_reaches_the_importer_in_its_language(language):
    broken = cml(OFFERS)[:-200]
    with translation.override(language):
        with pytest.raises(CommerceMLError) as direct:
            list(iter_records(io.BytesIO(broken), name="offers.xml"))
        seen = []
        with pytest.raises(CommerceMLError) as ahead:
            for record in read_ahead(iter_records(io.BytesIO(broken), name="offers.xml"), chunk=1):
                seen.append(record)
    assert str(ahead.value) == str(direct.value)
    assert seen  # the records before the error came first, as they would
    assert not reader_threads()


def test_a_consumer_that_stops_early_stops_the_reader(tmp_path):
    exchange = generate_exchange(tmp_path, products=300, images=False, seed=5)
    records = read_ahead(iter_records(exchange.dir / "offers.xml"), chunk=4, depth=1)
    assert next(records) is not None
    records.close()
    assert not reader_threads()

    class WriteFailed(Exception):
        pass

    with pytest.raises(WriteFailed):
        for index, _record in enumerate(read_ahead(iter_records(exchange.dir / "import.xml"), chunk=4)):
            if index == 10:
                raise WriteFailed
    assert not reader_threads()
