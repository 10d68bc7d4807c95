"""
``type=catalog`` and ``type=sale`` runs of the same or of different 1C nodes at the same
time (one exchange user is common) never take each other's session or upload folder.
"""

import pytest

from integration_1c.models import ExchangeSession

from .conftest import OneC, text

pytestmark = pytest.mark.django_db


def started(exchange_type="catalog", *, init=True):
    client = OneC(exchange_type)
    assert text(client.checkauth()).startswith("success")
    if init:
        assert text(client.init(version="2.08")).startswith("zip=")
    return client


def test_a_catalogue_and_a_sale_run_at_once_keep_their_own_sessions(exchange_user, importer, queue):
    catalog = started("catalog")
    catalog.send("import.xml", b"<catalogue/>")
    sale = started("sale")
    assert text(sale.call("success")) == "success"

    assert text(catalog.import_("import.xml")).startswith("progress")
    queue.run()
    assert text(catalog.import_("import.xml")) == "success"
    assert importer.applied == [("import.xml", b"<catalogue/>")]
    sessions = ExchangeSession.objects.filter(token__in=[catalog.sessid, sale.sessid])
    assert {s.exchange_type for s in sessions} == {"catalog", "sale"}


def test_two_catalogue_nodes_at_once_keep_their_files(exchange_user, importer, queue):
    first = started("catalog")
    first.send("import.xml", b"<node-a/>")
    second = started("catalog")  # its init must not clean the first node's folder
    second.send("import.xml", b"<node-b/>")

    for client in (first, second):
        assert text(client.import_("import.xml")).startswith("progress")
    queue.run()

    assert sorted(importer.applied) == [("import.xml", b"<node-a/>"), ("import.xml", b"<node-b/>")]


def test_a_node_that_just_logged_in_keeps_its_session_when_another_inits(exchange_user, importer, queue):
    """Another node's init must not take a session that has only done checkauth so far."""
    waiting = started("catalog", init=False)
    other = started("catalog")
    other.send("offers.xml", b"<other/>")

    assert text(waiting.init(version="2.08")).startswith("zip=")
    waiting.send("import.xml", b"<waiting/>")
    assert text(waiting.import_("import.xml")).startswith("progress")
    queue.run()
    assert ("import.xml", b"<waiting/>") in importer.applied
