"""
The thumbnails of product cards: pages never wait for Pillow (a thumbnail not made yet
is made when the browser asks for it), and what exists is remembered per process.
"""

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from oscar.core.thumbnails import SorlThumbnail, get_thumbnailer

from shop import thumbnails

from .factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CARD = {"size": "300x300", "upscale": False}


@pytest.fixture(autouse=True)
def forget():
    """Each test starts with nothing remembered and no thumbnails in sorl's store."""
    from sorl.thumbnail import default

    default.kvstore.clear()
    with thumbnails._lock:
        thumbnails._memory.clear()
    yield
    with thumbnails._lock:
        thumbnails._memory.clear()


def card_pictures(client, url):
    html = client.get(url).content.decode()
    return re.findall(r'<img src="([^"]+)" alt=', html)


def test_the_shop_uses_the_deferring_thumbnailer():
    assert isinstance(get_thumbnailer(), thumbnails.Thumbnailer)


def test_a_page_links_to_thumbnails_not_made_yet_and_the_browser_gets_them_made(client, monkeypatch):
    category = CategoryFactory(name="Дрели")
    product = ProductFactory(title="Дрель", categories=[category], with_image=True)
    made = []
    monkeypatch.setattr(SorlThumbnail, "generate_thumbnail", _counting(SorlThumbnail.generate_thumbnail, made))

    (first,) = card_pictures(client, category.get_absolute_url())
    assert first.startswith("/thumbnail/") and not made, "the page made a thumbnail while rendering"

    response = client.get(first)
    assert response.status_code == 302 and len(made) == 1
    assert response["Location"].startswith("/media/cache/")
    assert "max-age" in response["Cache-Control"]
    image = product.primary_image()
    assert thumbnails.existing_thumbnail(image.original, **CARD).url == response["Location"]

    # Once made, pages link to the file itself, and the thumbnail is not made again.
    with thumbnails._lock:
        thumbnails._memory.clear()
    assert client.get(first)["Location"] == response["Location"]
    from django.core.cache import cache

    cache.clear()  # the cached cards hold the first address
    assert card_pictures(client, category.get_absolute_url()) == [response["Location"]]
    assert len(made) == 2  # the second /thumbnail/ request asked sorl again, which found the file in its store
    assert thumbnails.existing_thumbnail(image.original, **CARD) is not None


def test_a_forged_or_broken_thumbnail_address_is_not_found(client):
    from django.core import signing

    forged = signing.dumps(["../../etc/passwd", {"size": "5000x5000"}], salt="another salt")
    assert client.get(reverse("thumbnail", kwargs={"token": forged})).status_code == 404
    assert client.get(reverse("thumbnail", kwargs={"token": "not-a-token"})).status_code == 404
    missing = signing.dumps(["images/none.png", CARD], salt=thumbnails.TOKEN_SALT)
    assert client.get(reverse("thumbnail", kwargs={"token": missing})).status_code == 404


def test_an_existing_thumbnail_is_remembered_and_forgotten_when_deleted(monkeypatch):
    found = []

    def existing(source, **opts):
        found.append(source)
        return SimpleNamespace(url="/media/cache/ab/cd/abcd.jpg")

    monkeypatch.setattr(thumbnails, "existing_thumbnail", existing)
    monkeypatch.setattr(SorlThumbnail, "delete_thumbnails", lambda self, source: None)
    picture = SimpleNamespace(name="images/products/1c/abc/drill_1f2e.jpg")
    thumbnailer = thumbnails.Thumbnailer()
    assert thumbnailer.generate_thumbnail(picture, **CARD).url == "/media/cache/ab/cd/abcd.jpg"
    assert thumbnails.Thumbnailer().generate_thumbnail(picture, **CARD).url == "/media/cache/ab/cd/abcd.jpg"
    assert len(found) == 1
    thumbnailer.generate_thumbnail(picture, size="100x100")
    assert len(found) == 2
    thumbnailer.delete_thumbnails(picture)
    thumbnailer.generate_thumbnail(picture, **CARD)
    assert len(found) == 3


def _counting(function, calls):
    def counted(self, source, **opts):
        calls.append(source)
        return function(self, source, **opts)

    return counted


def test_a_page_of_cards_asks_the_store_once_whatever_its_size(client):
    """Whether the cards' thumbnails exist is read for the whole page at once (one query, whatever the count)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    category = CategoryFactory(name="Лампы")

    def store_queries():
        cache.clear()
        with thumbnails._lock:
            thumbnails._memory.clear()
        with CaptureQueriesContext(connection) as captured:
            pictures = card_pictures(client, category.get_absolute_url())
        return sum("thumbnail_kvstore" in query["sql"] for query in captured), pictures

    ProductFactory(title="Лампа 1", categories=[category], with_image=True)
    few, pictures = store_queries()
    for n in range(2, 8):
        ProductFactory(title=f"Лампа {n}", categories=[category], with_image=True)
    many, pictures = store_queries()
    assert few == many == 1
    assert len(pictures) == 7 and all(picture.startswith("/thumbnail/") for picture in pictures)

    # Once made, the page links to the files, still with one look-up.
    for picture in pictures:
        assert client.get(picture).status_code == 302
    again, pictures = store_queries()
    assert again == 1 and all(picture.startswith("/media/cache/") for picture in pictures)


def test_the_card_template_uses_the_card_thumbnail_geometry():
    from pathlib import Path

    from django.conf import settings

    template = (Path(settings.BASE_DIR) / "templates/oscar/catalogue/partials/product.html").read_text()
    size, upscale = thumbnails.CARD_THUMBNAIL["size"], thumbnails.CARD_THUMBNAIL["upscale"]
    assert f'oscar_thumbnail image.original "{size}" upscale={upscale}' in template
