"""The thumbnailer every card asks: remembered per process, forgotten when a picture's thumbnails are deleted."""

from types import SimpleNamespace

import pytest
from oscar.core.thumbnails import SorlThumbnail, get_thumbnailer

from shop import thumbnails


@pytest.fixture
def made(monkeypatch):
    """The thumbnails sorl was asked to make (it is not asked again while one is remembered)."""
    calls = []

    def generate(self, source, **opts):
        calls.append((source, opts["size"]))
        return SimpleNamespace(url=f"/media/cache/{len(calls)}.jpg")

    monkeypatch.setattr(SorlThumbnail, "generate_thumbnail", generate)
    monkeypatch.setattr(SorlThumbnail, "delete_thumbnails", lambda self, source: None)
    with thumbnails._lock:
        thumbnails._memory.clear()
    yield calls
    with thumbnails._lock:
        thumbnails._memory.clear()


def test_the_shop_uses_the_remembering_thumbnailer():
    assert isinstance(get_thumbnailer(), thumbnails.Thumbnailer)


def test_a_thumbnail_is_made_once_per_picture_and_size(made):
    thumbnailer = thumbnails.Thumbnailer()
    picture = SimpleNamespace(name="images/products/1c/abc/drill_1f2e.jpg")
    first = thumbnailer.generate_thumbnail(picture, size="300x300", upscale=False)
    again = thumbnails.Thumbnailer().generate_thumbnail(picture, size="300x300", upscale=False)
    assert again.url == first.url
    assert len(made) == 1
    other_size = thumbnailer.generate_thumbnail(picture, size="100x100", upscale=False)
    assert other_size.url != first.url and len(made) == 2


def test_deleting_a_pictures_thumbnails_forgets_them(made):
    thumbnailer = thumbnails.Thumbnailer()
    picture = SimpleNamespace(name="images/products/1c/abc/drill_1f2e.jpg")
    first = thumbnailer.generate_thumbnail(picture, size="300x300")
    thumbnailer.delete_thumbnails(picture)
    assert thumbnailer.generate_thumbnail(picture, size="300x300").url != first.url
    assert len(made) == 2


def test_nothing_is_remembered_for_a_thumbnail_that_failed(made, monkeypatch):
    monkeypatch.setattr(SorlThumbnail, "generate_thumbnail", lambda self, source, **opts: SimpleNamespace(url=""))
    thumbnailer = thumbnails.Thumbnailer()
    thumbnailer.generate_thumbnail(SimpleNamespace(name="images/missing.jpg"), size="300x300")
    assert not any(key[0] == "thumbnail" for key in thumbnails._memory if isinstance(key, tuple))
