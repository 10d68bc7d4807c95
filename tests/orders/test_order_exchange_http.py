"""
The whole orders exchange over the exchange URL, driven by the 1C emulator as real 1C
drives it: checkauth, init, query, success, then 1C's documents back (file + import).
"""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from lxml import etree

from integration_1c.testing.emulator import DjangoClientTransport, OneCClient
from integration_1c.models import OrderExchange
from integration_1c.selectors import orders_due_for_export

pytestmark = pytest.mark.django_db

PASSWORD = "Obmen-1c-parol"


@pytest.fixture
def onec_client(settings, django_user_model):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = django_user_model.objects.create_user("obmen", "obmen@example.kz", PASSWORD)
    user.user_permissions.add(
        Permission.objects.get(codename="exchange_1c", content_type__app_label="integration_1c")
    )

    def make(version="2.08"):
        return OneCClient(
            DjangoClientTransport(Client()), "obmen", PASSWORD, version=version, poll_interval=0
        )

    return make


def numbers(answer, ns="urn:1C.ru:commerceml_2", path="c:Документ/c:Ид/text()"):
    return sorted(
        etree.fromstring(bytes(answer).removeprefix(b"\xef\xbb\xbf")).xpath(path, namespaces={"c": ns})
    )


def onec_document(order, status, tracking):
    return (
        '<?xml version="1.0" encoding="windows-1251"?>\n'
        '<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2024-05-02T10:00:00">'
        f"<Документ><Ид>{order.number}</Ид><Номер>{order.number}</Номер><Дата>2024-05-01</Дата>"
        "<Номер1С>ЗК-000123</Номер1С><Дата1С>2024-05-01T12:00:00</Дата1С><ЗначенияРеквизитов>"
        "<ЗначениеРеквизита><Наименование>Проведен</Наименование><Значение>true</Значение></ЗначениеРеквизита>"
        f"<ЗначениеРеквизита><Наименование>Статус заказа</Наименование><Значение>{status}</Значение></ЗначениеРеквизита>"
        f"<ЗначениеРеквизита><Наименование>Трек-номер</Наименование><Значение>{tracking}</Значение></ЗначениеРеквизита>"
        "</ЗначенияРеквизитов></Документ></КоммерческаяИнформация>"
    ).encode("cp1251")


def test_query_success_and_documents_back_over_http(onec_client, orders, customer, tmp_path, queued_emails):
    first, second = orders.place(user=customer), orders.place(guest_email="guest@example.kz")
    client = onec_client()

    answer = client.query()
    assert answer.content_type.startswith("application/xml") and answer.charset == "utf-8"
    assert numbers(answer) == sorted([first.number, second.number])

    first.set_status("Подтверждён")  # a manager, while 1C is storing the answer
    client.success()
    assert numbers(client.query()) == [first.number]  # the change goes out again
    client.success()
    assert not list(orders_due_for_export())

    path = tmp_path / "documents.xml"
    path.write_bytes(onec_document(first, "Отправлен", "KZ000111222"))
    result = client.send_documents(path)

    assert result.ok
    first.refresh_from_db()
    exchange = OrderExchange.objects.get(order=first)
    assert first.status == "Отправлен"
    assert (exchange.onec_number, exchange.posted, exchange.tracking_number) == (
        "ЗК-000123",
        True,
        "KZ000111222",
    )
    assert not list(orders_due_for_export())  # what 1C said is not echoed back to it
    assert [args[1:] for _task, args in queued_emails][-1] == ("Подтверждён", "Отправлен")

    # 1C repeats the document at its next exchange: nothing happens twice.
    again = onec_client()
    assert again.send_documents(path).ok
    assert first.status_changes.count() == 2


def test_3_1_client_and_the_info_document(onec_client, orders):
    order = orders.place()
    client = onec_client(version="3.1")

    answer = client.query()
    assert numbers(answer, ns="urn:1C.ru:commerceml_3", path="c:Контейнер/c:Документ/c:Ид/text()") == [
        order.number
    ]
    client.success()
    assert OrderExchange.objects.get(order=order).acknowledged_version == 1

    info = etree.fromstring(bytes(client.info()).removeprefix(b"\xef\xbb\xbf"))
    assert "Отменён" in info.xpath("Статусы/Элемент/Название/text()")
