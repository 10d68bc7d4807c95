"""
Live stock in a real browser (Debian's chromium driven by Playwright), fed by the real
exchange: the 1C emulator (``integration_1c.testing.emulator``) sends CommerceML over HTTP to
the exchange view of a live server, which imports it (importer services) as 1C would.

First exchange: the product is at zero in every warehouse -> its page says it is out of
stock and offers no way to add it. Second exchange: one warehouse is restocked -> the
page shows that warehouse and the product goes into the basket.
"""

import pytest
from oscar.core.loading import get_model

from tests.conftest import launch_chromium as launch
from tests.conftest import requires_chromium

Product = get_model("catalogue", "Product")
Basket = get_model("basket", "Basket")

pytestmark = requires_chromium

NS = 'xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" ДатаФормирования="2024-05-01T10:00:00"'
CLASSIFIER = "bb1d7a2c-0000-4000-8000-00000000c1a5"
CATALOGUE = "bb1d7a2c-0000-4000-8000-0000000ca7a1"
GROUP = "bb1d7a2c-0000-4000-8000-00000000960a"
PRODUCT = "bb1d7a2c-0000-4000-8000-0000000000a1"
RETAIL = "bb1d7a2c-0000-4000-8000-0000000000b1"
ALMATY = "bb1d7a2c-0000-4000-8000-0000000000c1"
ASTANA = "bb1d7a2c-0000-4000-8000-0000000000c2"


def import_xml():
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация {NS}>
  <Классификатор>
    <Ид>{CLASSIFIER}</Ид><Наименование>Классификатор</Наименование>
    <Группы><Группа><Ид>{GROUP}</Ид><Наименование>Чайники</Наименование></Группа></Группы>
  </Классификатор>
  <Каталог СодержитТолькоИзменения="false">
    <Ид>{CATALOGUE}</Ид><ИдКлассификатора>{CLASSIFIER}</ИдКлассификатора><Наименование>Каталог</Наименование>
    <Товары>
      <Товар>
        <Ид>{PRODUCT}</Ид>
        <Артикул>TWK-8613</Артикул>
        <Наименование>Чайник Bosch TWK 8613</Наименование>
        <БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>
        <Группы><Ид>{GROUP}</Ид></Группы>
        <Описание>Электрический чайник</Описание>
      </Товар>
    </Товары>
  </Каталог>
</КоммерческаяИнформация>
"""


def offers_xml(almaty, astana):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация {NS}>
  <ПакетПредложений СодержитТолькоИзменения="false">
    <Ид>{CATALOGUE}#</Ид><Наименование>Пакет предложений</Наименование>
    <ИдКаталога>{CATALOGUE}</ИдКаталога><ИдКлассификатора>{CLASSIFIER}</ИдКлассификатора>
    <ТипыЦен>
      <ТипЦены><Ид>{RETAIL}</Ид><Наименование>Розничная</Наименование><Валюта>KZT</Валюта></ТипЦены>
    </ТипыЦен>
    <Склады>
      <Склад><Ид>{ALMATY}</Ид><Наименование>Алматы</Наименование></Склад>
      <Склад><Ид>{ASTANA}</Ид><Наименование>Астана</Наименование></Склад>
    </Склады>
    <Предложения>
      <Предложение>
        <Ид>{PRODUCT}</Ид>
        <Наименование>Чайник Bosch TWK 8613</Наименование>
        <БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>
        <Цены>
          <Цена>
            <Представление>12990 KZT за шт</Представление>
            <ИдТипаЦены>{RETAIL}</ИдТипаЦены>
            <ЦенаЗаЕдиницу>12990</ЦенаЗаЕдиницу><Валюта>KZT</Валюта>
            <Единица>шт</Единица><Коэффициент>1</Коэффициент>
          </Цена>
        </Цены>
        <Количество>{almaty + astana}</Количество>
        <Склад ИдСклада="{ALMATY}" КоличествоНаСкладе="{almaty}"/>
        <Склад ИдСклада="{ASTANA}" КоличествоНаСкладе="{astana}"/>
      </Предложение>
    </Предложения>
  </ПакетПредложений>
</КоммерческаяИнформация>
"""


def exchange(base_url, folder, *, almaty, astana):
    """One catalogue exchange of 1C with the live shop: import.xml, then offers.xml."""
    from integration_1c.testing.emulator import HttpTransport, OneCClient

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "import.xml").write_text(import_xml(), encoding="utf-8")
    (folder / "offers.xml").write_text(offers_xml(almaty, astana), encoding="utf-8")
    client = OneCClient(
        HttpTransport(base_url), "onec", "exchange-secret", version="3.1", poll_interval=0.1, timeout=60
    )
    result = client.exchange_catalog(folder, files=["import.xml", "offers.xml"])
    assert result.ok, result


@pytest.mark.django_db(transaction=True)
def test_exchange_sells_out_then_restocks_one_warehouse(live_server, settings, tmp_path, django_user_model):
    from playwright.sync_api import expect, sync_playwright

    # Imports run in a thread of the live server, as in the embedded default (no worker needed).
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ONEC_PRICE_TYPE = "Розничная"
    settings.ONEC_SELLING_WAREHOUSES = []
    django_user_model.objects.create_superuser("onec", "onec@example.kz", "exchange-secret")

    # Rows are read before Playwright starts: Django refuses ORM calls while its event loop runs.
    exchange(live_server.url, tmp_path / "first", almaty=0, astana=0)
    product = Product.objects.get(code=PRODUCT)
    url = live_server.url + product.get_absolute_url()

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(locale="ru-RU")
            page.set_default_timeout(15_000)

            page.goto(url)
            expect(page.locator(".product_main .availability").first).to_have_text("Нет в наличии")
            warehouses = page.locator(".warehouse-list li")
            expect(warehouses).to_have_text(["Алматы нет в наличии", "Астана нет в наличии"])
            expect(page.locator("#add_to_basket_form")).to_have_count(0)
            expect(page.locator("#add_to_basket_unavailable")).to_be_disabled()

            exchange(live_server.url, tmp_path / "second", almaty=0, astana=4)

            page.reload()
            expect(page.locator(".product_main .availability").first).to_have_text("Осталось всего 4 шт.")
            expect(warehouses).to_have_text(["Алматы нет в наличии", "Астана 4 шт."])
            page.locator("#add_to_basket_form button[type=submit]").click()
            page.goto(live_server.url + "/basket/")
            expect(page.locator(".basket-items")).to_contain_text("Чайник Bosch TWK 8613")
        finally:
            browser.close()

    basket = Basket.objects.get(lines__product=product)
    assert basket.lines.get().quantity == 1
