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
from functools import lru_cache

from django.db import connection
from django.utils import timezone
from oscar.core.loading import get_model

from integration_1c import conf
from integration_1c.commerceml import records as rec
from integration_1c.models import PriceType, ProductExchange, ProductPrice

from . import stock
from .bulk import KeySet, allow_table_scans, delete_where_in, insert_new, update_rows
from .catalogue import (
    is_public,
    make_slug,
    products_by_code,
    touch_products,
    write_products,
    write_variant_attributes,
)
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


@lru_cache(maxsize=256)
def normalise_currency(value):
    text = (value or "").strip()
    if not text:
        return ""
    return CURRENCIES.get(text.casefold(), text.upper() if len(text) == 3 and text.isascii() else text)[:12]


def _left(num_in_stock, num_allocated=0):
    """Whether a stock record has some left (after reservations): what a listing row shows."""
    return (num_in_stock or 0) - (num_allocated or 0) > 0


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
                row = next(
                    (row for row in self.by_code.values() if row["name"].casefold() == wanted.casefold()),
                    None,
                )
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
                self.ctx.report.warn(
                    f"склад {code} не описан в пакете (нет в Склады) — создан с именем по Ид"
                )
            self.write([rec.Warehouse(id=code, name=code) for code in missing])
        return {code: self.by_code[code[:128]] for code in codes}


# -- offers --------------------------------------------------------------------------------


class OfferWriter:
    """
    Applies batches of Предложение records. Rows whose content did not change are not
    written again: 1C re-sends whole packages every few minutes, and an unchanged row
    costs nothing to skip but a lot to rewrite (Oscar's tables carry many indexes).
    """

    CHILD_FIELDS = ["title", "slug", "is_public", "parent", "structure", "product_class"]
    STOCK_FIELDS = ["product", "num_in_stock", "num_allocated", "price", "price_currency"]

    def __init__(self, ctx, price_types, warehouses, attributes):
        self.ctx = ctx
        self.report = ctx.report
        self.price_types = price_types
        self.warehouses = warehouses
        self.attributes = attributes
        self.saw_stock = False
        #: Offer Ид that carried stock, for zeroing what a full package left out.
        self.listed = KeySet("offers")
        self._rule = None
        self._default_warehouse = None
        self._alerts = None  # whether stock alerts can change (stock.alerts_possible), asked once

    @property
    def rule(self):
        if self._rule is None:
            self._rule = stock.SalesStockRule(self.ctx.counted_before)
        return self._rule

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
        codes = {offer.product_id for offer in offers} | {
            offer.id for offer in offers if offer.characteristic_id
        }
        since = self.ctx.listed_since
        products = products_by_code(
            codes, ["id", "code", "structure", "parent_id", "title", "is_public"], since=since
        )
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
        # Writing an offer touches its product: mode=deactivate never hides it. Not again
        # a product this exchange run touched already (the catalogue file before the offers
        # file of a full package touched them all): deactivate and the full package's
        # rules ask only whether it was touched since the run's start.
        touched = [
            row for row in [base for _, base in targets] + [parent for _, parent in variants] if not row["onec__touched"]
        ]
        touch_products(
            [row["id"] for row in touched],
            self.ctx.catalogue_id,
            claim=False,
            stateless=[row["id"] for row in touched if row["onec__touched"] is None],
        )
        targets.extend(self._write_variants(variants, products))
        self._write_activity(targets)
        selling_prices = self._write_prices(targets)
        self._write_stock(targets, selling_prices)

    def _write_activity(self, targets):
        """
        CML2_ACTIVE of offers: false hides the offer (its variant, or the product itself).
        A product shown or hidden is stamped (``date_updated``) like every other write of
        the import: the listing refresh finds what a file changed by that stamp, and a
        package of changes does not sweep the whole listing for rows to drop.
        """
        shown = {True: [], False: []}
        for offer, product in targets:
            if offer.active is not None:
                shown[is_public(offer)].append(product["id"])
        for public, ids in shown.items():
            if ids:
                Product.objects.filter(id__in=ids).exclude(is_public=public).update(
                    is_public=public, date_updated=timezone.now()
                )

    # -- variants ------------------------------------------------------------------------

    def _make_parents(self, product_ids):
        """A product that got variants becomes a parent and loses its own stock records."""
        Product.objects.filter(id__in=product_ids).update(structure=Product.PARENT)
        StockRecord.objects.filter(product_id__in=product_ids).delete()
        stock.stock_written(product_ids)

    def _write_variants(self, variants, products):
        """Upsert child products for ``p#c`` offers; returns (offer, child row) pairs."""
        if not variants:
            return []
        ids, rows = {}, []
        for offer, parent in variants:
            child = products.get(offer.id)
            if child is not None and child["structure"] != Product.CHILD:
                self.report.skipped += 1
                self.report.warn(f"предложение {offer.id}: на сайте это не вариант товара — пропущено")
                continue
            if child is None:
                self.report.created += 1
                rows.append(self._child(offer, parent))
                continue
            self.report.updated += 1
            ids[offer.id] = child["id"]
            # An offer without a name (prices / rests files) says nothing about the variant.
            title = (offer.name or "").strip()[:255]
            if offer.name and (
                child["title"] != title
                or child["is_public"] != is_public(offer)
                or child["parent_id"] != parent["id"]
            ):
                rows.append(self._child(offer, parent))
        if rows:
            ids.update(write_products(rows, products, self.CHILD_FIELDS))
        pairs = [(offer, ids[offer.id]) for offer, _ in variants if offer.id in ids]
        self._write_variant_attributes(pairs)
        return [(offer, {"id": pk, "code": offer.id, "structure": Product.CHILD}) for offer, pk in pairs]

    @staticmethod
    def _child(offer, parent):
        title = (offer.name or "").strip()[:255]
        return {
            "code": offer.id,
            "parent_id": parent["id"],
            "structure": Product.CHILD,
            "product_class_id": None,
            "title": title,
            "slug": make_slug(title or parent.get("title") or "", offer.id),
            "is_public": is_public(offer),
            "description": "",
        }

    def _write_variant_attributes(self, pairs):
        """Characteristics (``c_``), article, barcode and offer properties of variants."""
        write_variant_attributes(self.attributes, pairs)

    # -- prices --------------------------------------------------------------------------

    def _selling_type(self):
        selling = self.price_types.selling()
        if selling is None:
            wanted = conf.get("ONEC_PRICE_TYPE")
            if wanted:
                known = ", ".join(f"«{row['name']}»" for row in self.price_types.by_code.values()) or "нет"
                raise ImportFailed(
                    f"{self.report.source}: тип цены «{wanted}» (ONEC_PRICE_TYPE) не найден ни в файле, ни на сайте; "
                    f"известные типы цен: {known}"
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
        selling = self.price_types.selling()
        selling_prices, wanted = {}, {}
        for offer, product in priced:
            for price in offer.prices:
                price_type = self.price_types.get(price.price_type_id)
                if price_type is None:
                    self.price_types.warn_unknown(price.price_type_id)
                    continue
                value = price.value.quantize(CENT, rounding=ROUND_HALF_UP)
                if value < 0 or value > MAX_PRICE:
                    self.report.warn(
                        f"предложение {offer.id}: цена {price.value} вне допустимых пределов — пропущена"
                    )
                    continue
                currency = (
                    normalise_currency(price.currency) or price_type["currency"] or stock.default_currency()
                )
                if selling is None:
                    selling = self._selling_type()  # raises: prices that can reach no stock record
                wanted[(product["id"], price_type["id"])] = (value, currency)
                if price_type["id"] == selling["id"]:
                    selling_prices[offer.id] = (value, currency)
        declared = {self.price_types.by_code[code]["id"] for code in self.price_types.declared}
        product_ids = {product["id"] for _, product in priced}
        stale, rows = [], []
        existing = {}
        for pk, product_id, type_id, value, currency in (
            ProductPrice.objects.order_by()
            .filter(product_id__in_array=list(product_ids))
            .values_list("id", "product_id", "price_type_id", "price", "currency")
        ):
            existing[(product_id, type_id)] = (pk, value, currency)
            if type_id in declared and (product_id, type_id) not in wanted:
                stale.append(pk)
        new_rows = []
        for (product_id, type_id), (value, currency) in wanted.items():
            stored = existing.get((product_id, type_id))
            if stored is None:
                new_rows.append(
                    {"product_id": product_id, "price_type_id": type_id, "price": value, "currency": currency}
                )
            elif stored[1:] != (value, currency):
                rows.append({"id": stored[0], "price": value, "currency": currency})
        delete_where_in(ProductPrice, "id", stale)
        update_rows(ProductPrice, rows, ["price", "currency"])
        insert_new(ProductPrice, new_rows, unique=["product", "price_type"], update=["price", "currency"])
        return selling_prices

    # -- stock ---------------------------------------------------------------------------

    def _write_stock(self, targets, selling_prices):
        """
        Per-warehouse records and the sales record of each sellable offer that brought
        stock or a selling price, in one upsert on (partner, partner_sku). The sales
        records are locked first, then the reservations read (see :mod:`.stock`).
        """
        work = []
        for offer, product in targets:
            has_stock = offer.stocks is not None or offer.quantity is not None
            selling = selling_prices.get(offer.id)
            if product["structure"] == Product.PARENT or not (has_stock or selling):
                continue
            work.append((offer, product, has_stock, selling))
        if not work:
            return
        rule = self.rule
        sales_id = rule.sales_id
        stocked = [offer.id[:128] for offer, _, has_stock, _ in work if has_stock]
        if stocked:
            self.saw_stock = True
            if self.ctx.full_package:
                self.listed.add(stocked)
        existing = {}
        skus = {offer.id[:128] for offer, *_ in work}
        # By product (indexed), not by partner_sku (Oscar indexes it only behind partner).
        for row in stock.read_stock_records(
            {product["id"] for _, product, *_ in work},
            [
                "partner_id",
                "partner_sku",
                "product_id",
                "num_in_stock",
                "num_allocated",
                "price",
                "price_currency",
            ],
            sales_id=sales_id,
        ):
            if row["partner_sku"] in skus:
                existing.setdefault(row["partner_sku"], {})[row["partner_id"]] = row
        reserved = rule.reserved(
            [current[sales_id]["pk"] for current in existing.values() if sales_id in current]
        )
        known_prices = self._known_selling_prices(
            [product["id"] for _, product, _, selling in work if not selling]
        )
        warehouse_codes = {code for offer, *_ in work if offer.stocks for code, _ in offer.stocks}
        warehouse_ids = self.warehouses.ids_for(sorted(warehouse_codes)) if warehouse_codes else {}

        if self._alerts is None:
            self._alerts = stock.alerts_possible()
        rows, sales_ids = [], []
        for offer, product, has_stock, selling in work:
            sku = offer.id[:128]
            current = existing.get(sku, {})
            price, currency = selling or known_prices.get(product["id"], (None, ""))
            quantities = {
                partner_id: row["num_in_stock"]
                for partner_id, row in current.items()
                if partner_id != sales_id
            }
            if has_stock:
                # A warehouse the offer no longer lists has nothing left there.
                quantities = dict.fromkeys(quantities, 0)
                if offer.stocks:
                    for code, quantity in offer.stocks:
                        partner_id = warehouse_ids[code]
                        quantities[partner_id] = quantities.get(partner_id, 0) + quantity_to_int(quantity)
                elif offer.quantity is not None:
                    quantities[self.default_warehouse.pk] = quantity_to_int(offer.quantity)
            for partner_id, num_in_stock in quantities.items():
                row = current.get(partner_id)
                if row is None and not num_in_stock:
                    continue  # no record is as good as an empty one: 1C lists every warehouse
                record = self._record(sku, product, partner_id, num_in_stock, row, price, currency, selling)
                if record is not None:
                    rows.append(record)
            sales_row = current.get(sales_id)
            if sales_row is not None:
                sales_ids.append(sales_row["pk"])
            if has_stock or sales_row is None:
                in_stock = rule.in_stock(quantities)
                allocated = reserved.get(sales_row["pk"], 0) if sales_row else 0
            else:
                in_stock, allocated = sales_row["num_in_stock"], sales_row["num_allocated"]
            record = self._record(
                sku, product, sales_id, in_stock, sales_row, price, currency, selling, allocated, sales=True
            )
            if record is not None:
                rows.append(record)
        changed, new_rows, listed = [], [], set()
        for row in rows:
            pk, shown = row.pop("_pk"), row.pop("_shown")
            if pk is None:
                new_rows.append(row)
            else:
                changed.append({"id": pk, **row})
            if shown:
                listed.add(row["product_id"])
        update_rows(StockRecord, changed, self.STOCK_FIELDS)
        insert_new(StockRecord, new_rows, unique=["partner", "partner_sku"], update=self.STOCK_FIELDS)
        changed.extend(new_rows)
        # For the listing refresh: only the products whose listing row these records can
        # change (a package of rests that moves quantities but empties no warehouse
        # refreshes no listing row).
        stock.stock_written(listed)
        if changed and sales_ids and self._alerts:
            stock.sync_stock_alerts(sales_ids)

    @staticmethod
    def _record(
        sku, product, partner_id, num_in_stock, row, price, currency, selling, allocated=None, *, sales=False
    ):
        """
        The stock record row to write, or None when it equals what is stored: 1C repeats
        whole packages, and most records of a repeat are as they were (building a row
        for each anyway cost 0.07 s of the importer's CPU for a 14,600-offer file). The
        row is flagged ``_shown`` when the change can show in the product's listing row:
        what the listing takes from stock records (``shop.apps.search.indexing``) is the
        sales records' price and whether they have some left after reservations, and
        which warehouses hold some.
        """
        if not selling and row is not None:
            price, currency = row["price"], row["price_currency"]
        currency = currency or stock.default_currency()
        if allocated is None:
            allocated = row["num_allocated"] if row is not None else 0
        if row is None or row["product_id"] != product["id"]:
            shown = True
        elif (
            row["num_in_stock"] == num_in_stock
            and (row["num_allocated"] or 0) == (allocated or 0)
            and row["price"] == price
            and row["price_currency"] == currency
        ):
            return None
        elif sales:
            shown = row["price"] != price or _left(row["num_in_stock"], row["num_allocated"]) != _left(
                num_in_stock, allocated
            )
        else:
            shown = _left(row["num_in_stock"]) != _left(num_in_stock)
        return {
            "product_id": product["id"],
            "partner_id": partner_id,
            "partner_sku": sku,
            "num_in_stock": num_in_stock,
            "num_allocated": allocated,
            "price": price,
            "price_currency": currency,
            "_shown": shown,
            "_pk": row["pk"] if row is not None else None,
        }

    def _known_selling_prices(self, product_ids):
        """Selling prices stored by earlier files, for records created by a rests-only file."""
        if not product_ids:
            return {}
        selling = self.price_types.selling()
        if selling is None:
            return {}
        return {
            product_id: (price, currency)
            for product_id, price, currency in ProductPrice.objects.order_by()
            .filter(product_id__in_array=product_ids, price_type_id=selling["id"])
            .values_list("product_id", "price", "currency")
        }

    # -- end of file ---------------------------------------------------------------------

    def zero_unlisted(self):
        """
        A FULL offers package that carried stock: the 1C offers it did not list have
        nothing left on the warehouses. 1C offers' records are those whose
        ``partner_sku`` is their product's code; the listed offers are in a temporary
        table. Returns how many products' stock went to zero.
        """
        if not self.saw_stock or not self.listed.used:
            return 0
        self.listed.prepare()
        quote = connection.ops.quote_name
        stock_table, product_table = quote(StockRecord._meta.db_table), quote(Product._meta.db_table)
        state_table = quote(ProductExchange._meta.db_table)
        # Only offers of this package's catalogue (ИдКаталога): another 1C node's
        # catalogue in the same shop keeps its stock. Products without 1C state belong
        # to any catalogue (see catalogue.in_catalogue).
        where = (
            f"FROM {stock_table} s JOIN {product_table} p ON p.id = s.product_id "
            f"LEFT JOIN {state_table} st ON st.product_id = COALESCE(p.parent_id, p.id) "
            f"WHERE s.partner_sku = p.code AND s.partner_id <> %s AND s.num_in_stock <> 0 "
            f"AND (%s = '' OR st.catalogue = %s OR st.product_id IS NULL) "
            f"AND NOT {self.listed.exists_sql('s.partner_sku')}"
        )
        catalogue = self.ctx.catalogue_id or ""
        params = [self.rule.sales_id, catalogue, catalogue]
        with allow_table_scans(), connection.cursor() as cursor:
            # This reads every stock record: a scan is the right plan. The records it
            # finds are then zeroed by their key, not by scanning again.
            cursor.execute(f"SELECT s.id, s.product_id {where}", params)
            found = cursor.fetchall()
        product_ids = sorted({product_id for _, product_id in found})
        stock.stock_written(product_ids)
        if found:
            StockRecord.objects.filter(pk__in_array=[pk for pk, _ in found]).update(num_in_stock=0)
        size = self.ctx.batch_size
        for start in range(0, len(product_ids), size):
            stock.recompute_sales_stock(
                product_ids[start : start + size], counted_before=self.ctx.counted_before
            )
        self.listed.drop()
        return len(product_ids)
