"""Web processes freeze what they hold after their first request (shop/memory.py)."""

import gc

import pytest

from shop import memory


@pytest.fixture
def collector():
    """The collector's state, put back afterwards (the test run itself must not stay frozen)."""
    threshold = gc.get_threshold()
    memory._frozen = False
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    memory._frozen = False
    from django.core.signals import request_finished

    request_finished.disconnect(memory._freeze, dispatch_uid="shop.memory.freeze")


@pytest.mark.django_db
def test_the_first_request_freezes_the_process_once(client, collector):
    memory.freeze_after_first_request()
    assert gc.get_freeze_count() == 0
    client.get("/")
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    assert gc.get_threshold()[0] == memory.YOUNG_THRESHOLD
    client.get("/")
    assert gc.get_freeze_count() <= frozen  # once: later requests' objects stay collectable


def test_the_web_application_sets_it_up(settings, monkeypatch):
    import importlib

    calls = []
    monkeypatch.setattr(memory, "freeze_after_first_request", lambda: calls.append(True))
    import shop.wsgi

    calls.clear()
    settings.GC_FREEZE = True
    importlib.reload(shop.wsgi)
    settings.GC_FREEZE = False
    importlib.reload(shop.wsgi)
    assert calls == [True]
