"""
Documents 1C sends back for orders: number and date in 1C, posted, payment, shipment,
tracking, status and cancellation, applied through Oscar's EventHandler so that history
and notes look like a manager's change — once, however often 1C repeats the document.
"""

import io

import pytest
from django.utils import timezone
from oscar.core.loading import get_model

from integration_1c.models import OrderExchange
from integration_1c.services.orders import apply_order_documents

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")


def requisites_xml(values):
    return "".join(
        f"<ЗначениеРеквизита><Наименование>{name}</Наименование><Значение>{value}</Значение></ЗначениеРеквизита>"
        for name, value in values.items()
    )


def document_xml(order, values=None, extra="", operation="Заказ товара", total=None):
    total = order.total_incl_tax if total is None else total
    return (
        f"<Документ><Ид>{order.number}</Ид><Номер>{order.number}</Номер><Дата>2024-05-01</Дата>"
        f"<ХозОперация>{operation}</ХозОперация><Роль>Продавец</Роль><Валюта>KZT</Валюта><Курс>1</Курс>"
        f"<Сумма>{total}</Сумма>{extra}"
        f"<ЗначенияРеквизитов>{requisites_xml(values or {})}</ЗначенияРеквизитов></Документ>"
    )


def cml(*documents, version="2.08", ns="urn:1C.ru:commerceml_2", encoding="utf-8"):
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<КоммерческаяИнформация xmlns="{ns}" ВерсияСхемы="{version}" ДатаФормирования="2024-05-02T10:00:00">'
        + "".join(documents)
        + "</КоммерческаяИнформация>"
    )
    return io.BytesIO(text.encode(encoding))


def apply(report, data):
    return apply_order_documents(data, report)


def version(order):
    return OrderExchange.objects.get(order=order).version


def test_official_2_03_document_pays_and_delivers_the_order(samples_dir, orders, report, queued_emails):
    order = orders.place()
    sample = (samples_dir / "official-2.03" / "to.xml").read_bytes().decode("cp1251")
    sample = sample.replace("<Ид>20</Ид>", f"<Ид>{order.number}</Ид>").replace(
        "<Номер>20</Номер>", f"<Номер>{order.number}</Номер>"
    )
    data = io.BytesIO(sample.encode("cp1251"))

    apply(report, data)

    order.refresh_from_db()
    exchange = OrderExchange.objects.get(order=order)
    assert (report.updated, report.skipped) == (1, 0)
    assert order.status == "Доставлен"  # «[F] Доставлен»: 1C may skip pipeline steps
    assert list(order.status_changes.values_list("old_status", "new_status")) == [("Новый", "Доставлен")]
    assert exchange.paid_at is not None and exchange.payment_number == "ТК000000026"
    assert order.payment_events.get().event_type.name == "Оплачен (1С)"
    assert exchange.onec_status == "Доставлен"
    assert exchange.last_change_from_1c_at is not None
    notes = list(order.notes.values_list("message", flat=True))
    assert any("«Новый» на «Доставлен»" in note for note in notes)
    assert any("оплачен" in note and "ТК000000026" in note for note in notes)
    assert any("сумма заказа в 1С 9683.42" in note for note in notes)  # 1C's sum differs: told, not applied
    assert version(order) == 1  # no echo back to 1C
    assert [(args[1], args[2]) for _task, args in queued_emails] == [("Новый", "Доставлен")]


def test_the_same_document_twice_changes_nothing(orders, report, queued_emails):
    order = orders.place()
    document = document_xml(
        order, {"Номер по 1С": "ЗК-0001", "Статус заказа": "Подтверждён", "Оплачен": "true"}
    )

    apply(report, cml(document))
    notes, changes = order.notes.count(), order.status_changes.count()
    apply(report, cml(document))

    assert (report.updated, report.skipped) == (1, 1)
    assert (order.notes.count(), order.status_changes.count()) == (notes, changes)
    assert order.payment_events.count() == 1
    assert len(queued_emails) == 1


def test_registration_shipment_tracking_and_mapped_status(settings, orders, report, queued_emails):
    settings.ONEC_ORDER_STATUS_MAP = {"S": "Отправлен"}
    order = orders.place(lines=[(orders.product(), 2), (orders.product(), 1)])
    order.set_status("Подтверждён")
    queued_emails.clear()
    before = version(order)
    document = document_xml(
        order,
        {
            "Проведен": "true",
            "Дата отгрузки по 1С": "02.05.2024 15:30:00",
            "Номер отгрузки по 1С": "РТ-0042",
            "Отгружен": "true",
            "Номер отслеживания": "KZ123456789",
            "Статуса заказа ИД": "S",
            "Статус заказа": "[S] Передан в доставку",
        },
        extra="<Номер1С>ЗК-0042</Номер1С><Дата1С>2024-05-02T09:15:00</Дата1С>",
    )

    apply(report, cml(document))

    order.refresh_from_db()
    exchange = OrderExchange.objects.get(order=order)
    assert exchange.onec_number == "ЗК-0042"
    assert (
        timezone.localtime(exchange.onec_date).isoformat().startswith("2024-05-02T09:15:00")
    )  # 1C local time
    assert exchange.posted is True
    assert exchange.shipment_number == "РТ-0042"
    assert timezone.localtime(exchange.shipped_at).strftime("%d.%m.%Y %H:%M") == "02.05.2024 15:30"
    assert exchange.tracking_number == "KZ123456789"
    assert order.status == "Отправлен"
    shipping_event = order.shipping_events.get()
    assert shipping_event.notes == "РТ-0042"
    assert sorted(shipping_event.line_quantities.values_list("quantity", flat=True)) == [1, 2]
    assert version(order) == before
    assert [(args[1], args[2]) for _task, args in queued_emails] == [("Подтверждён", "Отправлен")]


def test_3_1_container_with_payment_and_shipment_documents(orders, report):
    order = orders.place()
    order_doc = document_xml(order, {"Статус заказа": "Подтверждён"}).replace("<Документ>", "<Документ>", 1)
    payment = (
        "<Документ><Ид>pay-guid</Ид><Номер>ПКО-17</Номер><Дата>2024-05-03</Дата><Время>11:00:00</Время>"
        "<ХозОперация>Выплата безналичных денег</ХозОперация><Роль>Продавец</Роль><Валюта>KZT</Валюта>"
        f"<Курс>1</Курс><Сумма>{order.total_incl_tax}</Сумма>"
        f"<ЗначенияРеквизитов>{requisites_xml({'Проведен': 'true'})}</ЗначенияРеквизитов></Документ>"
    )
    shipment = (
        "<Документ><Ид>ship-guid</Ид><Номер>РТ-9</Номер><Дата>2024-05-04</Дата>"
        "<ХозОперация>Отпуск товара</ХозОперация><Роль>Продавец</Роль><Валюта>KZT</Валюта><Курс>1</Курс>"
        f"<Сумма>{order.total_incl_tax}</Сумма><ЗначенияРеквизитов>"
        f"{requisites_xml({'Проведен': 'true', 'Трек-номер': 'RR000111222KZ'})}</ЗначенияРеквизитов></Документ>"
    )
    data = cml(
        f"<Контейнер>{order_doc}{payment}{shipment}</Контейнер>", version="3.1", ns="urn:1C.ru:commerceml_3"
    )

    apply(report, data)

    order.refresh_from_db()
    exchange = OrderExchange.objects.get(order=order)
    assert order.status == "Отправлен"  # shipped in 1C: the shop's status follows (event map)
    assert (exchange.payment_number, timezone.localtime(exchange.paid_at).date().isoformat()) == (
        "ПКО-17",
        "2024-05-03",
    )
    assert (exchange.shipment_number, exchange.tracking_number) == ("РТ-9", "RR000111222KZ")
    assert order.payment_events.count() == order.shipping_events.count() == 1


def test_unknown_order_is_a_warning_and_the_rest_is_applied(orders, report):
    order = orders.place()
    stranger = "<Документ><Ид>no-such-order</Ид><Номер>ЗК-777</Номер><Дата>2024-05-01</Дата></Документ>"

    apply(report, cml(stranger, document_xml(order, {"Статус заказа": "Подтверждён"})))

    assert report.skipped == 1 and report.updated == 1
    assert len(report.warnings) == 1
    assert (
        "заказ" in report.warnings[0]
        and "не найден" in report.warnings[0]
        and "no-such-order" in report.warnings[0]
    )
    order.refresh_from_db()
    assert order.status == "Подтверждён"


def test_cancellation_releases_the_reserved_stock(orders, report):
    product = orders.product(stock=10)
    order = orders.place(lines=[(product, 3)])
    record = StockRecord.objects.get(product=product)
    assert record.num_allocated == 3

    apply(report, cml(document_xml(order, {"Отменен": "true", "Статус заказа": "Отменен"})))

    order.refresh_from_db()
    record.refresh_from_db()
    line = order.lines.get()
    assert order.status == "Отменён"
    assert OrderExchange.objects.get(order=order).cancelled is True
    assert (line.num_allocated, line.allocation_cancelled) == (0, True)
    assert record.num_allocated == 0


def test_deletion_mark_cancels_too(orders, report):
    order = orders.place()
    apply(report, cml(document_xml(order, {"ПометкаУдаления": "true"})))
    order.refresh_from_db()
    assert order.status == "Отменён"
    assert OrderExchange.objects.get(order=order).deletion_mark is True


def test_a_stale_status_never_moves_an_order_back(orders, report, queued_emails):
    order = orders.place()
    order.set_status("Подтверждён")
    order.set_status("Собирается")
    queued_emails.clear()

    apply(report, cml(document_xml(order, {"Статус заказа": "Новый"})))

    order.refresh_from_db()
    assert order.status == "Собирается"
    assert order.notes.filter(message__contains="статус на сайте не изменён").exists()
    assert queued_emails == []


def test_unmapped_status_is_reported(orders, report):
    order = orders.place()
    apply(
        report, cml(document_xml(order, {"Статуса заказа ИД": "Z", "Статус заказа": "[Z] Странный статус"}))
    )
    order.refresh_from_db()
    assert order.status == "Новый"
    assert any(
        "ONEC_ORDER_STATUS_MAP" in warning and "Странный статус" in warning for warning in report.warnings
    )
    assert OrderExchange.objects.get(order=order).onec_status == "Странный статус"


def test_windows_1251_file_without_namespace(orders, report):
    order = orders.place()
    data = cml(
        document_xml(order, {"Статус заказа": "подтвержден"}), version="2.04", ns="", encoding="windows-1251"
    )
    data = io.BytesIO(data.getvalue().replace(b' xmlns=""', b""))

    apply(report, data)

    order.refresh_from_db()
    assert order.status == "Подтверждён"  # matched to the pipeline without case or ё


def test_cancelling_an_order_1c_already_counted_keeps_other_reservations(orders, report, make_session):
    """
    The sales record's reservations are the orders 1C's stock figure misses. Cancelling
    an order 1C had already counted must not release anybody else's reservation.
    """
    import uuid
    from datetime import timedelta

    from django.utils import timezone
    from oscar.core.loading import get_class, get_model

    from integration_1c.models import ExchangeFile, ExchangeSession
    from integration_1c.services.orders import acknowledge, build_query_answer
    from integration_1c.services.stock import recompute_sales_stock

    Partner = get_model("partner", "Partner")
    product = orders.product(code="kettle-1c", stock=None)
    product.stockrecords.all().delete()
    sales = Partner.objects.create(code="site", name="Интернет-магазин")
    warehouse = Partner.objects.create(code="wh-almaty", name="Алматы")
    sales_record = product.stockrecords.create(
        partner=sales, partner_sku="kettle-1c", num_in_stock=10, price=1500
    )
    product.stockrecords.create(partner=warehouse, partner_sku="kettle-1c", num_in_stock=10, price=1500)

    shop_strategy = get_class("partner.strategy", "Selector")().strategy()  # sells from the sales record
    counted = orders.place(lines=[(product, 3)], strategy=shop_strategy)  # 1C takes it, then counts its stock
    session = make_session()
    build_query_answer(session, now=timezone.now() - timedelta(minutes=10))
    acknowledge(session, now=timezone.now() - timedelta(minutes=10))
    stock_session = ExchangeSession.objects.create(exchange_type="catalog", token=uuid.uuid4().hex)
    ExchangeFile.objects.create(
        session=stock_session, name="offers.xml", kind="offers", state=ExchangeFile.DONE
    )
    StockRecord.objects.filter(partner=warehouse).update(num_in_stock=7)  # 1C's figure after the order
    recompute_sales_stock([product.pk])
    pending = orders.place(lines=[(product, 2)], strategy=shop_strategy)  # 1C does not know this one yet
    sales_record.refresh_from_db()
    assert (sales_record.num_in_stock, sales_record.num_allocated) == (7, 2)

    apply(report, cml(document_xml(counted, {"Отменен": "true"})))

    sales_record.refresh_from_db()
    assert Order.objects.get(pk=counted.pk).status == "Отменён"
    assert (sales_record.num_in_stock, sales_record.num_allocated) == (7, 2)  # the pending order keeps its 2
    assert pending.lines.get().num_allocated == 2
