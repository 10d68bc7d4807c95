"""
A 1C offers package (ПакетПредложений) written into Oscar: price types, warehouses,
variants, prices and stock.

* ТипЦены -> ``integration_1c.PriceType`` (``code`` = Ид); every Цена ->
  ``ProductPrice`` per (product, type). The SELLING type (conf ``ONEC_PRICE_TYPE``, a
  name or an Ид; empty: the first type this file declares, else the first type ever
  stored) is also the ``price`` of the product's stock records.
* Склад -> ``Partner`` (``code`` = Ид, ``name``).
* Предложение ``p#c`` -> a CHILD product with ``code`` = ``p#c`` under product ``p``,
  which becomes a PARENT (its own stock records go: Oscar forbids stock on parents).
  A variant finds its parent by code, so variants need not be contiguous in the file.
  ХарактеристикиТовара -> ``c_…`` text attributes of the variant.
* Quantities -> one ``StockRecord`` per (warehouse, offer Ид), and the sales record
  recomputed by the rule in :mod:`.stock`.

A field a file did not carry is ``None`` in the record, so a prices-only file touches
prices only and a rests-only file stock only. An offer naming a product the catalogue
does not have is skipped with a warning. Per batch the statements are fixed: read the
products, upsert variants, upsert prices, read and upsert the stock records, recompute
the sales records.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F
from oscar.core.loading import get_model

from integration_1c import conf
from integration_1c.commerceml import records as rec
from integration_1c.models import PriceType, ProductPrice

from . import attributes as attrs
from . import stock
from .attributes import write_values
from .catalogue import characteristic_values, make_slug
from .context import ImportFailed

Product = get_model("catalogue", "Product")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

CENT = Decimal("0.01")
MAX_PRICE = Decimal("9999999999.99")  # StockRecord.price: 12 digits, 2 decimals

#: What 1C writes in Валюта -> ISO 4217, which Oscar's price formatting expects.
CURRENCIES = {
    "руб": "RUB",
    "руб.": "RUB",
    "рубль": "RUB",
    "rur": "RUB",
    "643": "RUB",
    "тенге": "KZT",
    "тг": "KZT",
    "тг.": "KZT",
    "₸": "KZT",
    "398": "KZT",
    "грн": "UAH",
    "грн.": "UAH",
    "980": "UAH",
    "бел. руб.": "BYN",
    "933": "BYN",
    "сум": "UZS",
    "860": "UZS",
    "usd": "USD",
    "840": "USD",
    "$": "USD",
    "eur": "EUR",
    "978": "EUR",
    "€": "EUR",
}


def normalise_currency(value):
    text = (value or "").strip()
    if not text:
        return ""
    return CURRENCIES.get(text.casefold(), text.upper() if len(text) == 3 and text.isascii() else text)[:12]


def quantity_to_int(value):
    """1C quantities may be fractional or negative; Oscar counts whole items, never below 0."""
    if value is None:
        return 0
    return max(0, int(value))


# -- price types and warehouses --------------------------------------------------------------


class PriceTypeIndex:
    """Price types known to the shop, and which one sells."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.by_code = {}
        self.declared = []  # Ид of the types this file declared, in order
        self._warned = set()
        for row in PriceType.objects.order_by("pk").values("id", "code", "name", "currency"):
            self.by_code[row["code"]] = row

    def write(self, price_types):
        unique = {}
        for price_type in price_types:
            if price_type.id:
                unique[price_type.id] = price_type
        if not unique:
            return
        PriceType.objects.bulk_create(
            [
                PriceType(
                    code=price_type.id[:64],
                    name=(price_type.name or price_type.id)[:255],
                    currency=normalise_currency(price_type.currency),
                )
                for price_type in unique.values()
            ],
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "currency", "date_updated"],
        )
        for row in PriceType.objects.filter(code__in=[code[:64] for code in unique]).values(
            "id", "code", "name", "currency"
        ):
            self.by_code[row["code"]] = row
        for code in unique:
            if code[:64] not in self.declared:
                self.declared.append(code[:64])

    def get(self, code):
        return self.by_code.get((code or "")[:64])

    def selling(self):
        """The selling type's row, or None when none is known."""
        wanted = (conf.get("ONEC_PRICE_TYPE") or "").strip()
        if wanted:
            row = self.by_code.get(wanted)
            if row is None:
                row = next((row for row in self.by_code.values() if row["name"].casefold() == wanted.casefold()), None)
            return row
        if self.declared:
            return self.by_code[self.declared[0]]
        return min(self.by_code.values(), key=lambda row: row["id"], default=None)

    def warn_unknown(self, code):
        if code not in self._warned:
            self._warned.add(code)
            self.ctx.report.warn(f"тип цены {code} не описан (нет в ТипыЦен) — цены этого типа пропущены")


class WarehouseIndex:
    """1C warehouses as Partners, by Ид."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.by_code = {}
        self._loaded = False

    def _load(self):
        if not self._loaded:
            self.by_code.update(dict(Partner.objects.values_list("code", "id")))
            self._loaded = True

    def write(self, warehouses):
        unique = {}
        for warehouse in warehouses:
            if warehouse.id:
                unique[warehouse.id[:128]] = warehouse
        if not unique:
            return
        Partner.objects.bulk_create(
            [Partner(code=code, name=(warehouse.name or code)[:128]) for code, warehouse in unique.items()],
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name"],
        )
        self.by_code.update(dict(Partner.objects.filter(code__in=list(unique)).values_list("code", "id")))

    def ids_for(self, codes):
        """Partner ids for warehouse Ид, creating (and warning about) undeclared warehouses."""
        self._load()
        missing = {code[:128] for code in codes if code[:128] not in self.by_code}
        if missing:
            for code in sorted(missing):
                self.ctx.report.warn(f"склад {code} не описан в пакете (нет в Склады) — создан с именем по Ид")
            self.write([rec.Warehouse(id=code, name=code) for code in missing])
        return {code: self.by_code[code[:128]] for code in codes}


# -- offers --------------------------------------------------------------------------------


class OfferWriter:
    """Applies batches of Предложение records."""

    CHILD_FIELDS = ["title", "slug", "is_public", "parent", "structure", "product_class", "date_updated"]
    STOCK_FIELDS = ["product", "num_in_stock", "price", "price_currency", "date_updated"]

    def __init__(self, ctx, price_types, warehouses, attributes):
        self.ctx = ctx
        self.report = ctx.report
        self.price_types = price_types
        self.warehouses = warehouses
        self.attributes = attributes
        self.saw_stock = False
        self._sales = None
        self._default_warehouse = None

    @property
    def sales(self):
        if self._sales is None:
            self._sales = stock.sales_partner()
        return self._sales

    @property
    def default_warehouse(self):
        if self._default_warehouse is None:
            self._default_warehouse = stock.default_warehouse()
        return self._default_warehouse

    def write(self, offers):
        unique = {}
        for offer in offers:
            unique[offer.id] = offer
        offers = list(unique.values())
        if not offers:
            return
        codes = {offer.product_id for offer in offers} | {offer.id for offer in offers if offer.characteristic_id}
        products = {
            row["code"]: row
            for row in Product.objects.filter(code__in=list(codes)).values("id", "code", "structure", "parent_id")
        }
        targets = []  # (offer, product row)
        variants = []  # (offer, parent row)
        new_parents = set()
        for offer in offers:
            base = products.get(offer.product_id)
            if base is None or base["structure"] == Product.CHILD:
                self.report.skipped += 1
                self.report.warn(
                    f"предложение {offer.id} «{offer.name}»: товар {offer.product_id} не найден в каталоге — пропущено"
                )
                continue
            if offer.characteristic_id:
                if base["structure"] == Product.STANDALONE:
                    new_parents.add(base["id"])
                    base["structure"] = Product.PARENT
                variants.append((offer, base))
            else:
                self.report.updated += 1
                targets.append((offer, base))
        if new_parents:
            self._make_parents(new_parents)
        targets.extend(self._write_variants(variants, products))
        selling_prices = self._write_prices(targets)
        self._write_stock(targets, selling_prices)

    # -- variants ------------------------------------------------------------------------

    def _make_parents(self, product_ids):
        """A product that got variants becomes a parent and loses its own stock records."""
        Product.objects.filter(id__in=product_ids).update(structure=Product.PARENT)
        StockRecord.objects.filter(product_id__in=product_ids).delete()

    def _write_variants(self, variants, products):
        """Upsert child products for ``p#c`` offers; returns (offer, child row) pairs."""
        if not variants:
            return []
        described, bare = [], []
        for offer, parent in variants:
            child = products.get(offer.id)
            if child is not None and child["structure"] != Product.CHILD:
                self.report.skipped += 1
                self.report.warn(f"предложение {offer.id}: на сайте это не вариант товара — пропущено")
                continue
            if child is None:
                self.report.created += 1
            else:
                self.report.updated += 1
            (described if offer.name else bare).append((offer, parent, child))
        if described:
            Product.objects.bulk_create(
                [self._child(offer, parent) for offer, parent, _ in described],
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=self.CHILD_FIELDS,
            )
        new_bare = [(offer, parent) for offer, parent, child in bare if child is None]
        if new_bare:
            Product.objects.bulk_create(
                [self._child(offer, parent) for offer, parent in new_bare],
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=["parent", "structure"],
            )
        ids = dict(
            Product.objects.filter(code__in=[offer.id for offer, _, _ in described + bare]).values_list("code", "id")
        )
        self._write_variant_attributes([(offer, ids[offer.id]) for offer, _, _ in described + bare])
        pairs = []
        for offer, _, _ in described + bare:
            pairs.append((offer, {"id": ids[offer.id], "code": offer.id, "structure": Product.CHILD}))
        return pairs

    @staticmethod
    def _child(offer, parent):
        title = (offer.name or "").strip()[:255]
        return Product(
            code=offer.id,
            parent_id=parent["id"],
            structure=Product.CHILD,
            product_class=None,
            title=title,
            slug=make_slug(title, offer.id),
            is_public=not offer.deleted,
        )

    def _write_variant_attributes(self, pairs):
        """Characteristics (``c_``), article, barcode and offer properties of variants."""
        index = self.attributes
        rows, managed = [], {}
        characteristic_ids = None
        for offer, product_id in pairs:
            owned = set()
            if offer.characteristics:
                by_name = index.characteristic_ids([name for name, _ in offer.characteristics])
                if characteristic_ids is None:
                    characteristic_ids = index.ids_with_prefix(attrs.CHARACTERISTIC_PREFIX)
                characteristic_ids |= set(by_name.values())
                owned |= characteristic_ids
                rows.extend(characteristic_values(product_id, offer.characteristics, by_name))
            for code, text in (("article", offer.article), ("barcode", offer.barcode)):
                row = index.text_value(product_id, code, (text or "").strip())
                if row is not None:
                    owned.add(row.attribute_id)
                    rows.append(row)
            if offer.properties:
                owned |= index.ids_with_prefix(attrs.PROPERTY_PREFIX)
                rows.extend(index.property_values(product_id, offer.properties, owner=f"предложение {offer.id}"))
            if owned:
                managed[product_id] = owned
        write_values(rows, managed)

    # -- prices --------------------------------------------------------------------------

    def _selling_type(self):
        selling = self.price_types.selling()
        if selling is None:
            wanted = conf.get("ONEC_PRICE_TYPE")
            if wanted:
                raise ImportFailed(
                    f"{self.report.source}: тип цены «{wanted}» (ONEC_PRICE_TYPE) не найден ни в файле, ни на сайте; "
                    f"известные типы: {', '.join(row['name'] for row in self.price_types.by_code.values()) or 'нет'}"
                )
            raise ImportFailed(
                f"{self.report.source}: в файле есть цены, но не описан ни один тип цены (ТипыЦен) — "
                "выгрузите типы цен или задайте ONEC_PRICE_TYPE"
            )
        return selling

    def _write_prices(self, targets):
        """
        ProductPrice per (product, type); a type this file declares but the offer omits
        is removed. Returns offer Ид -> (selling price, currency) for the stock records.
        """
        priced = [(offer, product) for offer, product in targets if offer.prices is not None]
        if not priced:
            return {}
        selling = self._selling_type()
        selling_prices = {}
        rows = {}
        listed = {}
        for offer, product in priced:
            listed.setdefault(product["id"], set())
            for price in offer.prices:
                price_type = self.price_types.get(price.price_type_id)
                if price_type is None:
                    self.price_types.warn_unknown(price.price_type_id)
                    continue
                value = price.value.quantize(CENT, rounding=ROUND_HALF_UP)
                if value < 0 or value > MAX_PRICE:
                    self.report.warn(f"предложение {offer.id}: цена {price.value} вне допустимых пределов — пропущена")
                    continue
                currency = normalise_currency(price.currency) or price_type["currency"] or stock.default_currency()
                rows[(product["id"], price_type["id"])] = ProductPrice(
                    product_id=product["id"], price_type_id=price_type["id"], price=value, currency=currency
                )
                listed[product["id"]].add(price_type["id"])
                if price_type["id"] == selling["id"]:
                    selling_prices[offer.id] = (value, currency)
        declared = {self.price_types.by_code[code]["id"] for code in self.price_types.declared}
        if declared:
            stale = [
                pk
                for pk, product_id, type_id in ProductPrice.objects.filter(
                    product_id__in=list(listed), price_type_id__in=declared
                ).values_list("id", "product_id", "price_type_id")
                if type_id not in listed[product_id]
            ]
            if stale:
                ProductPrice.objects.filter(id__in=stale).delete()
        if rows:
            ProductPrice.objects.bulk_create(
                list(rows.values()),
                update_conflicts=True,
                unique_fields=["product", "price_type"],
                update_fields=["price", "currency", "date_updated"],
            )
        return selling_prices

    # -- stock ---------------------------------------------------------------------------

    def _write_stock(self, targets, selling_prices):
        """
        Per-warehouse records and the sales record of each sellable offer that brought
        stock or a selling price, in one upsert on (partner, partner_sku).
        """
        work = []
        for offer, product in targets:
            has_stock = offer.stocks is not None or offer.quantity is not None
            selling = selling_prices.get(offer.id)
            if product["structure"] == Product.PARENT or not (has_stock or selling):
                continue
            work.append((offer, product, has_stock, selling))
            self.saw_stock = self.saw_stock or has_stock
        if not work:
            return
        sales_id = self.sales.pk
        existing = {}
        for row in StockRecord.objects.filter(partner_sku__in=[offer.id for offer, *_ in work]).values(
            "partner_id", "partner_sku", "product_id", "num_in_stock", "num_allocated", "price", "price_currency"
        ):
            existing.setdefault(row["partner_sku"], {})[row["partner_id"]] = row
        known_prices = self._known_selling_prices([product["id"] for _, product, _, selling in work if not selling])
        warehouse_codes = {code for offer, *_ in work if offer.stocks for code, _ in offer.stocks}
        warehouse_ids = self.warehouses.ids_for(sorted(warehouse_codes)) if warehouse_codes else {}

        rows, restock = [], set()
        for offer, product, has_stock, selling in work:
            current = existing.get(offer.id, {})
            price, currency = selling or known_prices.get(product["id"], (None, ""))
            quantities = {}
            if offer.stocks is not None:
                for code, quantity in offer.stocks:
                    partner_id = warehouse_ids[code]
                    quantities[partner_id] = quantities.get(partner_id, 0) + quantity_to_int(quantity)
                if not offer.stocks and offer.quantity is not None:
                    quantities[self.default_warehouse.pk] = quantity_to_int(offer.quantity)
            elif offer.quantity is not None:
                quantities[self.default_warehouse.pk] = quantity_to_int(offer.quantity)
            partners = set(current) | set(quantities)
            partners.discard(sales_id)
            for partner_id in partners:
                row = current.get(partner_id)
                if has_stock:
                    # A warehouse the offer no longer lists has nothing left there.
                    num_in_stock = quantities.get(partner_id, 0)
                else:
                    num_in_stock = row["num_in_stock"]
                rows.append(self._record(offer, product, partner_id, num_in_stock, row, price, currency, selling))
            sales_row = current.get(sales_id)
            rows.append(
                self._record(
                    offer, product, sales_id, sales_row["num_in_stock"] if sales_row else 0, sales_row, price, currency,
                    selling,
                )
            )  # fmt: skip
            if has_stock or sales_row is None:
                restock.add(product["id"])
        StockRecord.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["partner", "partner_sku"], update_fields=self.STOCK_FIELDS
        )
        if restock:
            stock.recompute_sales_stock(list(restock), counted_before=self.ctx.counted_before)

    @staticmethod
    def _record(offer, product, partner_id, num_in_stock, row, price, currency, selling):
        if not selling and row is not None:
            price, currency = row["price"], row["price_currency"]
        return StockRecord(
            product_id=product["id"],
            partner_id=partner_id,
            partner_sku=offer.id[:128],
            num_in_stock=num_in_stock,
            num_allocated=row["num_allocated"] if row is not None else 0,
            price=price,
            price_currency=currency or stock.default_currency(),
        )

    def _known_selling_prices(self, product_ids):
        """Selling prices stored by earlier files, for records created by a rests-only file."""
        if not product_ids:
            return {}
        selling = self.price_types.selling()
        if selling is None:
            return {}
        return {
            product_id: (price, currency)
            for product_id, price, currency in ProductPrice.objects.filter(
                product_id__in=product_ids, price_type_id=selling["id"]
            ).values_list("product_id", "price", "currency")
        }

    # -- end of file ---------------------------------------------------------------------

    def zero_unlisted(self):
        """
        A FULL offers package that carried stock: 1C offers it did not list have nothing
        left on the warehouses (records this import did not write since it started).
        """
        if not self.saw_stock:
            return 0
        unlisted = (
            StockRecord.objects.filter(partner_sku=F("product__code"), date_updated__lt=self.ctx.started_at)
            .exclude(partner_id=self.sales.pk)
            .exclude(num_in_stock=0)
        )
        product_ids = list(unlisted.values_list("product_id", flat=True).distinct())
        if not product_ids:
            return 0
        unlisted.update(num_in_stock=0)
        size = self.ctx.batch_size
        for start in range(0, len(product_ids), size):
            stock.recompute_sales_stock(product_ids[start : start + size], counted_before=self.ctx.counted_before)
        return len(product_ids)
