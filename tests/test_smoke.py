import pytest


@pytest.mark.django_db
def test_home_page_renders_in_russian(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert 'lang="ru"' in response.content.decode()


@pytest.mark.django_db
def test_the_shop_stays_russian_for_an_english_browser_until_the_shopper_switches(client):
    assert 'lang="ru"' in client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
