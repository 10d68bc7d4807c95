"""
Orders between the shop and 1C (``type=sale``).

To 1C
    :func:`build_query_answer` answers ``mode=query`` with every order 1C has not
    acknowledged, and records which orders at which versions the answer held
    (:class:`~integration_1c.models.OrderExportItem`); :func:`acknowledge` answers
    ``mode=success`` by confirming exactly those. An order placed or changed after the
    answer was built has a higher version and goes out again; an answer 1C never
    confirms is simply built again next time. Versions grow with every change made on
    the site (:func:`bump_versions`, called by ``integration_1c/receivers.py``), never
    with changes that came from 1C (:func:`changes_from_1c`), so 1C gets no echo.

From 1C
    :func:`apply_order_documents` applies the documents 1C sends back — its number and
    date, posted / deleted / cancelled, payment, shipment, tracking number, status —
    through Oscar's ``EventHandler``, so the order's history, notes and the customer's
    emails look exactly as if a manager had made the change in the dashboard.
"""

import hashlib
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from decimal import Decimal

from django.contrib.sites.models import Site
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from oscar.apps.order.signals import order_status_changed
from oscar.core.exceptions import ClassNotFoundError
from oscar.core.loading import get_class, get_model

from .. import conf, selectors
from ..commerceml.orders import (
    DELIVERY_ITEM_ID,
    SERVICE,
    Customer,
    OrderItem,
    OutgoingOrder,
    Warehouse,
    answer_schema_version,
    format_bool,
    format_datetime,
    pickup_requisites,
    read_order_documents,
    write_orders,
    write_reference,
)
from ..models import OrderExchange, OrderExportItem

logger = logging.getLogger(__name__)

EventHandler = get_class("order.processing", "EventHandler")
InvalidShippingEvent = get_class("order.exceptions", "InvalidShippingEvent")
InvalidPaymentEvent = get_class("order.exceptions", "InvalidPaymentEvent")
Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")
ShippingEventType = get_model("order", "ShippingEventType")
PaymentEventType = get_model("order", "PaymentEventType")
SourceType = get_model("payment", "SourceType")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")

#: ``mode=success`` in a session that answered no query confirms the latest answer given
#: to the same 1C user in another session this recently (1C re-authenticates at times).
ACKNOWLEDGE_FALLBACK_WINDOW = timedelta(hours=1)

#: Event types 1C's payments and shipments are recorded with (created on first use).
PAID_EVENT = ("paid-1c", "Оплачен (1С)")
SHIPPED_EVENT = ("shipped-1c", "Отгружен (1С)")

_changes_from_1c = ContextVar("integration_1c_changes_from_1c", default=False)


# --- Versions --------------------------------------------------------------------


@contextmanager
def changes_from_1c():
    """Within this block, changes to orders came from 1C: they do not bump versions."""
    token = _changes_from_1c.set(True)
    try:
        yield
    finally:
        _changes_from_1c.reset(token)


def is_change_from_1c():
    return _changes_from_1c.get()


def register_placed_order(order):
    """A placed order is due for 1C at version 1 (the query may have registered it first)."""
    exchange, _created = OrderExchange.objects.get_or_create(order=order)
    return exchange


def bump_versions(order_ids):
    """
    The site changed these orders: 1C must receive them again. An atomic ``F()``
    increment, so concurrent changes never lose a bump. No-op for changes from 1C.
    """
    order_ids = [pk for pk in order_ids if pk]
    if not order_ids or is_change_from_1c():
        return 0
    return OrderExchange.objects.filter(order_id__in=order_ids).update(version=F("version") + 1)


def resend(exchanges):
    """Managers' «send to 1C again»: bump the version of these OrderExchange rows."""
    return exchanges.update(version=F("version") + 1)


# --- To 1C: mode=query / mode=success / mode=info --------------------------------


def build_query_answer(session, now=None):
    """
    The answer to ``type=sale&mode=query`` in ``session``: ``(bytes, charset)``.

    The due rows are locked (``SELECT … FOR UPDATE``) before the orders are read, so the
    versions recorded are the versions whose content the answer holds: a change
    committed before the lock is in the document; a change after it bumps the version
    past the recorded one and the order goes out again.
    """
    now = now or timezone.now()
    _register_unregistered_due_orders()
    with transaction.atomic():
        exchanges = list(selectors.exchanges_due_for_export().select_for_update(of=("self",)))
        versions = {exchange.order_id: exchange.version for exchange in exchanges}
        orders = list(selectors.orders_for_document(list(versions)))
        builder = OrderDocumentBuilder(orders)
        data, charset = write_orders(
            (builder.build(order) for order in orders),
            generated_at=timezone.localtime(now),
            schema_version=answer_schema_version(session.schema_version),
            encoding=conf.get("ONEC_ORDER_ENCODING"),
        )
        OrderExportItem.objects.bulk_create(
            [
                OrderExportItem(session=session, order_id=order.pk, version=versions[order.pk], sent_at=now)
                for order in orders
            ]
        )
        sent = [exchange.pk for exchange in exchanges]
        OrderExchange.objects.filter(pk__in=sent).update(last_sent_at=now)
        OrderExchange.objects.filter(pk__in=sent, first_sent_at__isnull=True).update(first_sent_at=now)
    logger.info("1C order query in session %s: %d orders", session.pk, len(orders))
    return data, charset


def _register_unregistered_due_orders():
    """Give every due order without a 1C state its version 1 (never lost, never doubled)."""
    missing = list(selectors.orders_due_for_export().filter(onec__isnull=True).values_list("pk", flat=True))
    if missing:
        OrderExchange.objects.bulk_create(
            [OrderExchange(order_id=pk) for pk in missing], ignore_conflicts=True
        )


def acknowledge(session, now=None):
    """
    ``type=sale&mode=success``: 1C stored the last answer of ``session``. Confirm exactly
    the orders it held, at the versions it held; returns how many were confirmed.

    When the session answered no query (1C sent success after a new ``checkauth``), the
    latest unconfirmed answer to the same user within :data:`ACKNOWLEDGE_FALLBACK_WINDOW`
    is confirmed. ``acknowledged_version`` never goes down; an item whose version 1C had
    already confirmed (the same order sent in two overlapping sessions) stays unmarked,
    so each version of an order is acknowledged once. ``OrderExchange.acknowledged_at``
    keeps the FIRST confirmation: from then on 1C's stock figures include the order
    (see the stock import's reservation rule).
    """
    now = now or timezone.now()
    with transaction.atomic():
        answer = selectors.last_query_items(session)
        if not answer.exists():
            answer = selectors.recent_unacknowledged_query_items(
                session, since=now - ACKNOWLEDGE_FALLBACK_WINDOW
            )
        items = list(answer.filter(acknowledged_at__isnull=True).select_for_update().order_by("pk"))
        if not items:
            return 0
        exchanges = {
            exchange.order_id: exchange
            for exchange in OrderExchange.objects.select_for_update()
            .filter(order_id__in=[item.order_id for item in items])
            .order_by("pk")
        }
        confirmed, changed = [], {}
        for item in items:
            exchange = exchanges.get(item.order_id)
            if exchange is None or item.version <= exchange.acknowledged_version:
                continue
            exchange.acknowledged_version = item.version
            exchange.acknowledged_at = exchange.acknowledged_at or now
            changed[exchange.pk] = exchange
            confirmed.append(item.pk)
        OrderExchange.objects.bulk_update(changed.values(), ["acknowledged_version", "acknowledged_at"])
        OrderExportItem.objects.filter(pk__in=confirmed).update(acknowledged_at=now)
    logger.info("1C confirmed %d orders (session %s)", len(confirmed), session.pk)
    return len(confirmed)


def info_document(encoding=None):
    """
    ``type=sale&mode=info``: the shop's order statuses, payment methods and delivery
    methods, for 1C's operator to map onto 1C's own. ``(bytes, charset)``.
    """
    statuses = [(status, status) for status in selectors.pipeline()]
    return write_reference(
        statuses,
        payment_methods(),
        delivery_methods(),
        encoding=encoding or conf.get("ONEC_ORDER_ENCODING"),
    )


def payment_methods():
    """
    (code, name) of every payment method orders record: the checkout's methods (their
    ``SourceType`` code and name, as ``shop.apps.checkout.payment`` records them on
    orders) and any other payment ``SourceType`` in the database.
    """
    methods = {}
    try:
        checkout_methods = get_class("checkout.payment", "PAYMENT_METHODS")
    except (ImportError, ClassNotFoundError):  # a checkout without the shop's payment module
        checkout_methods = ()
    for method in checkout_methods:
        methods.setdefault(method.code, method.source_type_name)
    for code, name in SourceType.objects.order_by("name").values_list("code", "name"):
        methods.setdefault(code, name)
    return list(methods.items())


def delivery_methods():
    """(code, name) of the shipping methods the checkout offers and those managed in the DB."""
    methods = {}
    repository = get_class("shipping.repository", "Repository")
    for method in getattr(repository, "methods", ()):
        methods.setdefault(str(method.code), str(method.name))
    for model_name in ("OrderAndItemCharges", "WeightBased"):
        model = get_model("shipping", model_name)
        for code, name in model.objects.values_list("code", "name"):
            methods.setdefault(code, name)
    return list(methods.items())


class OrderDocumentBuilder:
    """
    Turns an Oscar order into the record the CommerceML writer serialises.

    Document Ид is the order NUMBER (stable, what customers and managers see, and what
    1C sends back). A line's Ид is its product's ``code`` — the 1C Ид the catalogue import
    stored, ``product#characteristic`` for a variant — or the sales stock record's SKU
    (the offer Ид) when the product is gone.
    """

    def __init__(self, orders=()):
        self.site = Site.objects.get_current()
        product_ids = {line.product_id for order in orders for line in order.lines.all() if line.product_id}
        self.articles = dict(
            ProductAttributeValue.objects.filter(product_id__in=product_ids, attribute__code="article")
            .exclude(value_text="")
            .values_list("product_id", "value_text")
        )

    def build(self, order):
        placed_at = timezone.localtime(order.date_placed)
        return OutgoingOrder(
            id=order.number,
            number=order.number,
            placed_at=placed_at,
            currency=order.currency,
            total=order.total_incl_tax,
            customer=self.customer(order),
            items=self.items(order),
            comment=self.comment(order),
            requisites=self.requisites(order) + pickup_requisites(pickup_warehouse(order)),
            pickup_point=pickup_warehouse(order),
        )

    def customer(self, order):
        address = order.billing_address or order.shipping_address
        user = order.user
        first_name = (address.first_name if address else "") or (user.first_name if user else "")
        last_name = (address.last_name if address else "") or (user.last_name if user else "")
        full_name = " ".join(part for part in (last_name, first_name) if part) or order.email or order.number
        customer_id = f"site-user-{user.pk}" if user is not None else guest_customer_id(order)
        # A pickup order's shipping address is the point's, not the buyer's.
        shipping = order.shipping_address if pickup_warehouse(order) is None else None
        phone = ""
        for candidate in (order.shipping_address, order.billing_address):
            if candidate is not None and getattr(candidate, "phone_number", None):
                phone = str(candidate.phone_number)
                break
        return Customer(
            id=customer_id,
            full_name=full_name,
            last_name=last_name,
            first_name=first_name,
            address=shipping.summary if shipping else "",
            address_fields=self.address_fields(shipping) if shipping else [],
            email=order.email or "",
            phone=phone,
        )

    @staticmethod
    def address_fields(address):
        try:
            country = address.country.printable_name
        except Exception:  # noqa: BLE001 — a deleted country must not stop the export
            country = ""
        street = ", ".join(part for part in (address.line1, address.line2, address.line3) if part)
        return [
            ("Почтовый индекс", address.postcode or ""),
            ("Страна", country),
            ("Регион", address.state or ""),
            ("Город", address.line4 or ""),
            ("Улица", street),
        ]

    def items(self, order):
        items = []
        for line in order.lines.all():
            product = line.product
            item_id = (product.code if product is not None and product.code else "") or line.partner_sku
            before = line.line_price_before_discounts_incl_tax
            after = line.line_price_incl_tax
            unit_price = line.unit_price_incl_tax
            if unit_price is None:
                unit_price = before / line.quantity if line.quantity else before
            items.append(
                OrderItem(
                    id=item_id or f"site-product-{line.product_id or line.pk}",
                    name=line.title,
                    quantity=Decimal(line.quantity),
                    unit_price=unit_price,
                    amount=after,
                    discount=max(before - after, Decimal(0)),
                    article=self.articles.get(line.product_id, ""),
                )
            )
        if order.shipping_incl_tax and order.shipping_incl_tax > 0:
            items.append(
                OrderItem(
                    id=DELIVERY_ITEM_ID,
                    name=order.shipping_method or "Доставка заказа",
                    quantity=Decimal(1),
                    unit_price=order.shipping_incl_tax,
                    amount=order.shipping_incl_tax,
                    kind=SERVICE,
                )
            )
        return items

    @staticmethod
    def comment(order):
        parts = []
        if order.shipping_address is not None and order.shipping_address.notes:
            parts.append(order.shipping_address.notes)
        parts.extend(note.message for note in order.notes.all() if note.note_type in CUSTOMER_NOTE_TYPES)
        return "\n".join(parts)

    def requisites(self, order):
        exchange = getattr(order, "onec", None)
        payment_code, payment_name = payment_method(order)
        cancelled = order.status == selectors.cancelled_status()
        requisites = [
            ("Метод оплаты", payment_name),
            ("Метод оплаты ИД", payment_code),
            ("Заказ оплачен", format_bool(is_paid(order, exchange))),
            ("Доставка разрешена", format_bool(not cancelled and order.status != selectors.initial_status())),
            ("Отменен", format_bool(cancelled)),
            ("Финальный статус", format_bool(selectors.is_final_status(order.status))),
            ("Статус заказа", order.status),
            ("Статуса заказа ИД", order.status),
            (
                "Дата изменения статуса",
                format_datetime(timezone.localtime(selectors.status_change_date(order))),
            ),
            ("Способ доставки", order.shipping_method),
            ("Метод доставки ИД", order.shipping_code),
            (
                "Адрес доставки",
                order.shipping_address.summary
                if order.shipping_address and pickup_warehouse(order) is None
                else "",
            ),
            ("Сайт", self.site.domain),
        ]
        return [(name, value) for name, value in requisites if value]


def pickup_warehouse(order):
    """The 1C warehouse a pickup order is collected at (copied onto the order when placed), or None."""
    code = getattr(order, "pickup_point_code", "")
    if not code:
        return None
    return Warehouse(id=code, name=order.pickup_point_name or code, address=order.pickup_point_address or "")


def guest_customer_id(order):
    """
    A guest's Контрагент Ид: the same for every order of one email address, so 1C keeps
    one counterparty per guest; hashed when the address would not fit the 40 characters
    of ИдентификаторГлобальныйТип.
    """
    email = (order.guest_email or "").strip().lower()
    if not email:
        return f"site-order-{order.number}"[:40]
    customer_id = f"site-guest-{email}"
    if len(customer_id) > 40:
        customer_id = f"site-guest-{hashlib.sha1(email.encode()).hexdigest()[:29]}"
    return customer_id


#: OrderNote types that hold what the customer wrote at checkout (sent as Комментарий).
CUSTOMER_NOTE_TYPES = ("Комментарий покупателя", "Customer")


def payment_method(order):
    """(code, name) of how the customer pays: the order's payment source type, if any."""
    for source in order.sources.all():
        return source.source_type.code, source.source_type.name
    return "", ""


def is_paid(order, exchange=None):
    """Paid in 1C, or payment sources that debited the whole total."""
    if exchange is not None and exchange.paid_at:
        return True
    debited = sum((source.amount_debited for source in order.sources.all()), Decimal(0))
    return order.total_incl_tax > 0 and debited >= order.total_incl_tax


# --- From 1C: order documents ----------------------------------------------------


class OneCEventHandler(EventHandler):
    """
    Oscar's event handler for changes that 1C made. 1C is the book of record, so it may
    move an order over several pipeline steps at once (Новый -> Доставлен): such a move
    is applied as one status change, recorded and signalled like Oscar's own.
    """

    def handle_order_status_change(self, order, new_status, note_msg=None):
        if new_status in order.available_statuses():
            return super().handle_order_status_change(order, new_status, note_msg=note_msg)
        self.force_status(order, new_status)
        if note_msg:
            self.create_note(order, note_msg, note_type=OrderNote.SYSTEM)

    @staticmethod
    def force_status(order, new_status):
        """``Order.set_status`` without the pipeline check: cascade, save, signal, history."""
        old_status = order.status
        if new_status == old_status:
            return
        order.status = new_status
        line_status = order.cascade.get(new_status)
        if line_status:
            for line in order.lines.all():
                if line.status != line_status:
                    line.status = line_status
                    line.save(update_fields=["status"])
        order.save(update_fields=["status"])
        order_status_changed.send(sender=order, order=order, old_status=old_status, new_status=new_status)
        order._create_order_status_change(old_status, new_status)


def apply_order_documents(fileobj, report, name=""):
    """
    Apply every order document of a 1C file (path or binary file) to the shop's orders.
    ``report`` counts ``updated``/``skipped`` and collects warnings (``warn(msg)``): an
    order the site does not know is a warning, not a failure of the file.
    """
    applier = OrderDocumentApplier(report)
    for record in read_order_documents(fileobj, name=name):
        applier.apply(record)
    return report


class OrderDocumentApplier:
    """Applies :class:`~integration_1c.commerceml.orders.IncomingOrder` records, once each."""

    def __init__(self, report):
        self.report = report
        self.handler = OneCEventHandler()

    def apply(self, record):
        order = self.find_order(record)
        if order is None:
            self.report.warn(
                f"Документ 1С № {record.onec_number or record.number or record.id}: заказ "
                f"«{record.id or record.number}» не найден на сайте, документ пропущен."
            )
            self.report.skipped += 1
            return
        with transaction.atomic(), changes_from_1c():
            OrderExchange.objects.get_or_create(order=order)
            exchange = OrderExchange.objects.select_for_update().get(order=order)
            order = Order.objects.select_for_update().get(pk=order.pk)
            fingerprint = record.fingerprint()
            if exchange.last_document_hash == fingerprint:
                self.report.skipped += 1
                return
            change = _OrderChange(self, order, exchange, record)
            changed = change.apply()
            exchange.last_document_hash = fingerprint
            if changed:
                exchange.last_change_from_1c_at = timezone.now()
                self.report.updated += 1
            else:
                self.report.skipped += 1
            exchange.save()

    @staticmethod
    def find_order(record):
        """By Ид (the number the site sent), then Номер, then a 1C number seen before."""
        for number in (record.id, record.number):
            if number:
                order = Order.objects.filter(number=number).first()
                if order is not None:
                    return order
        if record.onec_number:
            exchange = (
                OrderExchange.objects.filter(onec_number=record.onec_number).select_related("order").first()
            )
            if exchange is not None:
                return exchange.order
        return None


class _OrderChange:
    """What one 1C document changes on one order; each step compares before it writes."""

    def __init__(self, applier, order, exchange, record):
        self.applier = applier
        self.handler = applier.handler
        self.order = order
        self.exchange = exchange
        self.record = record
        self.changed = False

    def apply(self):
        self.apply_registration()
        self.apply_flags()
        self.apply_tracking()
        self.apply_payment()
        self.apply_shipment()
        self.apply_status()
        self.apply_total()
        return self.changed

    def note(self, message):
        self.handler.create_note(self.order, message, note_type=OrderNote.SYSTEM)

    def apply_registration(self):
        record, exchange = self.record, self.exchange
        onec_date = _aware(record.onec_date)
        if record.onec_number and record.onec_number != exchange.onec_number:
            first = not exchange.onec_number
            exchange.onec_number = record.onec_number[:64]
            exchange.onec_date = onec_date or exchange.onec_date
            when = (
                f" от {timezone.localtime(exchange.onec_date):%d.%m.%Y %H:%M}" if exchange.onec_date else ""
            )
            self.note(
                f"1С: заказ зарегистрирован под номером {exchange.onec_number}{when}."
                if first
                else f"1С: номер заказа в 1С изменён на {exchange.onec_number}{when}."
            )
            self.changed = True
        elif onec_date and onec_date != exchange.onec_date:
            exchange.onec_date = onec_date
            self.changed = True

    def apply_flags(self):
        record, exchange = self.record, self.exchange
        for field, value, text_on in (
            ("posted", record.posted, "1С: документ заказа проведён."),
            ("deletion_mark", record.deletion_mark, "1С: заказ помечен на удаление."),
            ("cancelled", record.cancelled, "1С: заказ отменён."),
        ):
            if value is not None and value != getattr(exchange, field):
                setattr(exchange, field, value)
                if value:
                    self.note(text_on)
                self.changed = True

    def apply_tracking(self):
        tracking = self.record.tracking_number[:128]
        if tracking and tracking != self.exchange.tracking_number:
            self.exchange.tracking_number = tracking
            self.note(f"1С: номер отслеживания отправления {tracking}.")
            self.changed = True

    def apply_payment(self):
        record, exchange, order = self.record, self.exchange, self.order
        if not record.paid:
            return
        paid_at = _aware(record.paid_at) or exchange.paid_at or timezone.now()
        number = record.payment_number[:64]
        if exchange.paid_at is None:
            exchange.paid_at, exchange.payment_number = paid_at, number
            event_type = _event_type(PaymentEventType, PAID_EVENT)
            try:
                self.handler.handle_payment_event(order, event_type, order.total_incl_tax, reference=number)
            except InvalidPaymentEvent as exc:
                self.applier.report.warn(f"Заказ {order.number}: оплата из 1С не записана: {exc}")
            when = f"{timezone.localtime(paid_at):%d.%m.%Y %H:%M}"
            self.note(f"1С: заказ оплачен{f' (документ № {number})' if number else ''} {when}.")
            self.changed = True
        elif (paid_at, number or exchange.payment_number) != (exchange.paid_at, exchange.payment_number):
            exchange.paid_at, exchange.payment_number = paid_at, number or exchange.payment_number
            self.changed = True

    def apply_shipment(self):
        record, exchange, order = self.record, self.exchange, self.order
        if not record.shipped:
            return
        shipped_at = _aware(record.shipped_at) or exchange.shipped_at or timezone.now()
        number = record.shipment_number[:64]
        if exchange.shipped_at is None:
            exchange.shipped_at, exchange.shipment_number = shipped_at, number
            lines = list(order.lines.all())
            event_type = _event_type(ShippingEventType, SHIPPED_EVENT)
            try:
                self.handler.handle_shipping_event(
                    order, event_type, lines, [line.quantity for line in lines], reference=number
                )
            except InvalidShippingEvent as exc:
                self.applier.report.warn(f"Заказ {order.number}: отгрузка из 1С не записана: {exc}")
            when = f"{timezone.localtime(shipped_at):%d.%m.%Y %H:%M}"
            self.note(f"1С: заказ отгружен{f' (документ № {number})' if number else ''} {when}.")
            self.changed = True
        elif (shipped_at, number or exchange.shipment_number) != (
            exchange.shipped_at,
            exchange.shipment_number,
        ):
            exchange.shipped_at, exchange.shipment_number = shipped_at, number or exchange.shipment_number
            self.changed = True

    def apply_status(self):
        record, exchange, order = self.record, self.exchange, self.order
        onec_status = (record.status_name or record.status_id)[:64]
        if onec_status and onec_status != exchange.onec_status:
            exchange.onec_status = onec_status
            self.changed = True
        target = self.target_status()
        if target is None or target == order.status:
            return
        if order.status in selectors.pipeline() and target not in selectors.statuses_from(order.status):
            self.note(
                f"1С сообщает статус «{onec_status or target}», но заказ уже в статусе «{order.status}»: "
                "статус на сайте не изменён."
            )
            self.changed = True
            return
        old_status = order.status
        self.handler.handle_order_status_change(
            order, target, note_msg=f"1С: статус заказа изменён с «{old_status}» на «{target}»."
        )
        if target == selectors.cancelled_status():
            self.cancel_allocations()
        self.changed = True

    def target_status(self):
        """
        The shop status 1C's document asks for: cancellation first, then 1C's status (the
        status map, or a status of the shop's own name), then what the document's events
        mean (:func:`event_status`: shipped, paid, posted) — the later in the pipeline of
        the last two, so a shipped order does not stay «Новый».
        """
        record = self.record
        if record.cancelled or record.deletion_mark:
            return selectors.cancelled_status()
        from_1c = self.status_from_1c()
        from_events = self.event_target()
        if from_events and (from_1c is None or from_events in selectors.statuses_from(from_1c)):
            return from_events
        return from_1c

    def event_target(self):
        """The status the document's events ask for, if the order has not gone past it."""
        target = event_status(self.record)
        if target is None or target == self.order.status:
            return None
        if self.order.status in selectors.pipeline() and target not in selectors.statuses_from(self.order.status):
            return None  # the order is further along already (or elsewhere): leave it
        return target

    def status_from_1c(self):
        record = self.record
        mapping = {
            selectors.normalize_status(key): value for key, value in conf.get("ONEC_ORDER_STATUS_MAP").items()
        }
        for candidate in (record.status_id, record.status_name):
            mapped = mapping.get(selectors.normalize_status(candidate))
            if mapped:
                status = selectors.find_status(mapped)
                if status is None:
                    self.applier.report.warn(
                        f"ONEC_ORDER_STATUS_MAP: статус «{mapped}» (для «{candidate}» из 1С) не найден среди статусов магазина."
                    )
                return status
        status = selectors.find_status(record.status_name) or selectors.find_status(record.status_id)
        if status is None and (record.status_name or record.status_id):
            self.applier.report.warn(
                f"Заказ {self.order.number}: статус 1С «{record.status_name or record.status_id}» не сопоставлен "
                "со статусом магазина; добавьте его в ONEC_ORDER_STATUS_MAP."
            )
        return status

    def cancel_allocations(self):
        """
        Release the stock the cancelled order reserved: Oscar's cancel_stock_allocations
        on its lines, then the stock rule recomputes the sales records' reservations
        (``services.stock``), since an order 1C already counted held no reservation there.
        """
        lines = [
            line
            for line in self.order.lines.all()
            if line.stockrecord_id and line.num_allocated and not line.allocation_cancelled
        ]
        if not lines:
            return
        self.handler.cancel_stock_allocations(self.order, lines, [line.num_allocated for line in lines])
        from .stock import recompute_sales_stock

        recompute_sales_stock({line.product_id for line in lines if line.product_id})

    def apply_total(self):
        """
        1C's sum differs from the site's (1C edited lines): tell staff once, change
        nothing, and report it to 1C (the lines after ``success``) and the journal.
        """
        total = self.record.total
        if total is None or abs(total - self.order.total_incl_tax) < Decimal("0.01"):
            return
        self.applier.report.warn(
            f"Заказ {self.order.number}: сумма в 1С {total:.2f} не совпадает с суммой на сайте "
            f"{self.order.total_incl_tax:.2f} — строки заказа на сайте не изменены."
        )
        message = f"1С: сумма заказа в 1С {total:.2f}, на сайте {self.order.total_incl_tax:.2f}."
        if not self.order.notes.filter(message=message).exists():
            self.note(message)
            self.changed = True


#: Events of a 1C document, latest first: the first one the document reports and the
#: mapping names decides the status (conf ``ONEC_ORDER_EVENT_STATUS_MAP``).
ORDER_EVENTS = ("shipped", "paid", "posted")


def event_status(record):
    """
    The shop status that the events of a 1C document move an order to: shipped
    (Отгружен), paid (Оплачен), posted (Проведен), by conf ``ONEC_ORDER_EVENT_STATUS_MAP``
    (defaults: shipped -> «Отправлен», paid and posted -> «Подтверждён»). A mapping to a
    status the pipeline does not have, or to "", does nothing.
    """
    mapping = {**EVENT_STATUS_DEFAULTS, **(conf.get("ONEC_ORDER_EVENT_STATUS_MAP") or {})}
    happened = {"shipped": record.shipped, "paid": record.paid, "posted": record.posted}
    for event in ORDER_EVENTS:
        if happened[event] and mapping.get(event):
            status = selectors.find_status(mapping[event])
            if status is not None:
                return status
    return None


EVENT_STATUS_DEFAULTS = {"shipped": "Отправлен", "paid": "Подтверждён", "posted": "Подтверждён"}


def _event_type(model, code_and_name):
    code, name = code_and_name
    event_type, _created = model.objects.get_or_create(code=code, defaults={"name": name})
    return event_type


def _aware(value):
    """1C writes local times without a zone: read them in the shop's time zone."""
    if value is None:
        return None
    if timezone.is_aware(value):
        return value
    return timezone.make_aware(value)
