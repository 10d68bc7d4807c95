"""
Reads behind what a shopper sees about price and stock: which stock record is the sales
record, which 1C price types apply, which warehouses are shown, and the identifiers
(article, barcode) a product page publishes.

Everything that can be answered from prefetched rows (see
:mod:`shop.apps.partner.prefetch`) is, so a listing page makes no query per product;
without prefetching each function falls back to one small query.
"""

import re
from dataclasses import dataclass

from django.db.models import Q
from oscar.core.loading import get_model

from integration_1c import conf

Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")


def _price_models():
    # integration_1c's models are imported lazily: the partner app loads before it.
    from integration_1c.models import CustomerGroupPriceType, PriceType, ProductPrice

    return PriceType, ProductPrice, CustomerGroupPriceType


# --- Sales stock record ----------------------------------------------------------


def sales_partner_code():
    """Partner code of the sales stock record (conf ``ONEC_SALES_PARTNER_CODE``)."""
    return conf.get("ONEC_SALES_PARTNER_CODE")


def sales_partner_id():
    """Primary key of the sales partner, or None before the first 1C exchange."""
    return Partner.objects.filter(code=sales_partner_code()).values_list("pk", flat=True).first()


def prefetched(instance, name):
    """The prefetched rows of ``instance.<name>``, or None when they were not prefetched."""
    cache = getattr(instance, "_prefetched_objects_cache", None) or {}
    if name in cache:
        return list(cache[name])
    return None


def sales_stockrecord(product, partner_id):
    """
    The product's stock record on the sales partner: the one Oscar sells from. Read from
    prefetched stock records when present (no query), else one query.
    """
    if partner_id is None:
        return None
    records = prefetched(product, "stockrecords")
    if records is not None:
        return next((r for r in records if r.partner_id == partner_id), None)
    return StockRecord.objects.filter(product=product, partner_id=partner_id).order_by("pk").first()


# --- Price types -----------------------------------------------------------------


def resolve_price_type_id(value):
    """
    A 1C price type given by Ид or by name (settings accept either, as 1C operators know
    the name and the XML carries the Ид). The Ид wins when both match. None when unset or
    unknown.
    """
    value = (value or "").strip()
    if not value:
        return None
    PriceType, _, _ = _price_models()
    matches = list(
        PriceType.objects.filter(Q(code=value) | Q(name__iexact=value)).values_list("pk", "code")
    )
    for pk, code in matches:
        if code == value:
            return pk
    return matches[0][0] if matches else None


def old_price_type_id():
    """The price type shown crossed out (conf ``ONEC_OLD_PRICE_TYPE``), or None."""
    return resolve_price_type_id(conf.get("ONEC_OLD_PRICE_TYPE"))


def group_price_type(user):
    """
    ``(price type id, name)`` a customer pays by group (CustomerGroupPriceType): of the
    customer's groups that are mapped, the highest priority wins. None for everyone else.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    _, _, CustomerGroupPriceType = _price_models()
    row = (
        CustomerGroupPriceType.objects.filter(group__user=user)
        .order_by("-priority", "pk")
        .values_list("price_type_id", "price_type__name")
        .first()
    )
    return tuple(row) if row else None


def listing_price_type_ids():
    """
    Price types a listing must prefetch prices of: the old-price type and every type a
    customer group is mapped to. A small set, whichever user looks.
    """
    _, _, CustomerGroupPriceType = _price_models()
    ids = set(CustomerGroupPriceType.objects.values_list("price_type_id", flat=True))
    old_id = old_price_type_id()
    if old_id:
        ids.add(old_id)
    return ids


def product_prices(product, price_type_ids):
    """
    ``{price type id: ProductPrice}`` of ``product`` for the given types: from prefetched
    ``onec_prices`` when present, else one query.
    """
    price_type_ids = {pk for pk in price_type_ids if pk}
    if not price_type_ids:
        return {}
    rows = prefetched(product, "onec_prices")
    if rows is None:
        _, ProductPrice, _ = _price_models()
        rows = ProductPrice.objects.filter(product=product, price_type_id__in=price_type_ids)
    return {row.price_type_id: row for row in rows if row.price_type_id in price_type_ids}


# --- Warehouses ------------------------------------------------------------------


def selling_warehouse_names():
    """
    conf ``ONEC_SELLING_WAREHOUSES`` as a set of warehouse Ид/names; empty means every
    1C warehouse.
    """
    value = conf.get("ONEC_SELLING_WAREHOUSES") or []
    if isinstance(value, str):
        value = value.split(",")
    return {str(v).strip() for v in value if str(v).strip()}


def is_selling_warehouse(partner, selected=None, sales_code=None):
    """
    Whether ``partner`` is a warehouse the shop sells from, by the same rule the stock
    import sums the sales record with (``integration_1c.services.stock``): any partner
    except the sales partner; when conf ``ONEC_SELLING_WAREHOUSES`` is set, those
    matched by 1C Ид (partner code) or name, plus the total-quantity warehouse (conf
    ``ONEC_DEFAULT_WAREHOUSE_CODE``), which stands for all of 1C's stock.
    """
    sales_code = sales_partner_code() if sales_code is None else sales_code
    if partner.code == sales_code:
        return False
    selected = selling_warehouse_names() if selected is None else selected
    if not selected:
        return True
    return (
        partner.code in selected
        or partner.name.strip() in selected
        or partner.code == conf.get("ONEC_DEFAULT_WAREHOUSE_CODE")
    )


@dataclass(frozen=True)
class WarehouseStock:
    """What one warehouse has of one product, as a shopper is told it."""

    code: str
    name: str
    quantity: int

    @property
    def in_stock(self):
        return self.quantity > 0


def selling_warehouses():
    """Every warehouse partner the shop sells from (see :func:`is_selling_warehouse`), in one query."""
    selected = selling_warehouse_names()
    sales_code = sales_partner_code()
    return [
        partner
        for partner in Partner.objects.exclude(code=sales_code).order_by("name", "code")
        if is_selling_warehouse(partner, selected, sales_code)
    ]


def warehouse_stock(product, available=None, warehouses=None):
    """
    The product's stock per selling warehouse, named as in 1C, sorted by name.

    Every selling warehouse is listed (``warehouses``, default :func:`selling_warehouses`):
    one that holds none of this product shows as "нет в наличии" — the import keeps no
    empty warehouse records, so absence means zero. The total-quantity warehouse (conf
    ``ONEC_DEFAULT_WAREHOUSE_CODE``) is listed only where it holds a record. Each figure
    is capped at ``available`` (the sales record's available quantity) because orders
    placed on the site since the last exchange are reserved on the sales record, not yet
    in 1C's per-warehouse figures: the page never promises more than can be bought.
    """
    records = prefetched(product, "stockrecords")
    if records is None:
        records = list(StockRecord.objects.filter(product=product).select_related("partner"))
    warehouses = selling_warehouses() if warehouses is None else warehouses
    total_code = conf.get("ONEC_DEFAULT_WAREHOUSE_CODE")
    rows = {
        partner.pk: WarehouseStock(code=partner.code, name=partner.name, quantity=0)
        for partner in warehouses
        if partner.code != total_code
    }
    selected = selling_warehouse_names()
    sales_code = sales_partner_code()
    for record in records:
        partner = record.partner
        if not is_selling_warehouse(partner, selected, sales_code):
            continue
        quantity = max(0, record.net_stock_level)
        if available is not None:
            quantity = min(quantity, max(0, available))
        previous = rows.get(partner.pk)
        quantity += previous.quantity if previous else 0
        rows[partner.pk] = WarehouseStock(code=partner.code, name=partner.name, quantity=quantity)
    return sorted(rows.values(), key=lambda row: (row.name.casefold(), row.code))


def pickup_points():
    """The warehouses a manager made pickup points (``Partner.is_pickup_point``), in the manager's order."""
    return list(Partner.objects.pickup_points())


@dataclass(frozen=True)
class PickupStock:
    """What one pickup point has of one product: the point (address, hours, map link) and the quantity."""

    point: object
    quantity: int

    @property
    def in_stock(self):
        return self.quantity > 0


def pickup_stock(product, points, available=None):
    """
    The product's stock at each pickup point of ``points``, from 1C's figures for the
    point's warehouse, each capped at ``available`` as :func:`warehouse_stock` caps them.
    A point without a record for the product has none of it.
    """
    records = prefetched(product, "stockrecords")
    if records is None:
        records = list(StockRecord.objects.filter(product=product, partner__in=points))
    held = {}
    for record in records:
        held[record.partner_id] = held.get(record.partner_id, 0) + max(0, record.net_stock_level)
    result = []
    for point in points:
        quantity = held.get(point.pk, 0)
        if available is not None:
            quantity = min(quantity, max(0, available))
        result.append(PickupStock(point=point, quantity=quantity))
    return result


def courier_stock(warehouses, points, available=None):
    """
    How much a courier can bring: the stock of the selling warehouses that are not
    pickup points (``warehouses``, :func:`warehouse_stock`'s rows), capped at
    ``available``. What a point holds is for collecting there.
    """
    codes = {point.code for point in points}
    quantity = sum(row.quantity for row in warehouses if row.code not in codes)
    if available is not None:
        quantity = min(quantity, max(0, available))
    return quantity


# --- Identifiers -----------------------------------------------------------------

IDENTIFIER_CODES = ("article", "barcode")


def product_identifiers(products):
    """
    ``{product pk: {"article": …, "barcode": …}}`` from the 1C requisites stored as
    attributes (Артикул, Штрихкод), for all ``products`` in one query.
    """
    pks = [p.pk for p in products]
    result = {pk: {} for pk in pks}
    rows = ProductAttributeValue.objects.filter(
        product_id__in=pks, attribute__code__in=IDENTIFIER_CODES
    ).select_related("attribute")
    for row in rows:
        value = row.value
        if value not in (None, ""):
            result[row.product_id][row.attribute.code] = str(value).strip()
    return result


def gtin13(barcode):
    """The first valid EAN-13 in a 1C barcode field (it may list several), or None."""
    for candidate in re.split(r"[\s,;]+", barcode or ""):
        if is_valid_ean13(candidate):
            return candidate
    return None


def is_valid_ean13(code):
    """True for 13 digits whose last one is the EAN-13 check digit of the first 12."""
    code = (code or "").strip()
    if len(code) != 13 or not code.isdigit():
        return False
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == digits[12]
