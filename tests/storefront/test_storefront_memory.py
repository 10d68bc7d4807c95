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


def test_a_long_job_runs_frozen_and_gives_everything_back(settings, collector):
    settings.GC_FREEZE = True
    threshold = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with memory.frozen_during():
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] == memory.YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def test_a_long_job_gives_back_also_when_it_fails(settings, collector):
    settings.GC_FREEZE = True
    threshold = gc.get_threshold()
    with pytest.raises(ZeroDivisionError):
        with memory.frozen_during():
            1 / 0
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, threshold)


def test_a_process_that_froze_for_good_stays_frozen(settings, collector):
    """The web process (the embedded shop imports in it): its frozen heap is not given back."""
    settings.GC_FREEZE = True
    gc.freeze()
    gc.set_threshold(1234, 11, 12)
    frozen = gc.get_freeze_count()
    with memory.frozen_during():
        assert gc.get_threshold() == (1234, 11, 12)
    # Not given back (frozen objects that die on their own leave the count, so not "equal").
    assert gc.get_freeze_count() > frozen * 0.9
    assert gc.get_threshold() == (1234, 11, 12)


def test_a_long_job_in_a_thread_leaves_the_collector_alone(settings, collector):
    import threading

    settings.GC_FREEZE = True
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_during()))
    thread.start()
    thread.join()
    assert seen == [0]


def test_gc_freeze_false_leaves_the_collector_alone(settings, collector):
    settings.GC_FREEZE = False
    assert _during() == 0


def _during():
    with memory.frozen_during():
        return gc.get_freeze_count()
