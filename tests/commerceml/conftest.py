import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _reader_messages_in_english():
    """
    These tests pin the reader's messages by their English msgids; what 1C's operator
    reads in Russian is checked in tests/fidelity/test_reader_messages.py.
    """
    with translation.override("en"):
        yield
