"""
Groups and products of a 1C catalogue written into Oscar's catalogue.

* Группа -> ``Category`` (treebeard materialised path) with ``code`` = the group Ид, at
  any depth. Renames and moves in 1C follow; a deleted group or one a FULL package no
  longer lists becomes ``is_public=False`` — never deleted, so products and URLs stay.
* Товар -> ``Product`` with ``code`` = the product Ид, in the 1C product class,
  standalone (or parent once its offers bring variants, see :mod:`.offers`);
  ``is_public=False`` when 1C deleted it or (conf ``ONEC_FULL_PACKAGE_MISSING``) a full
  catalogue no longer lists it.

Everything is written per batch with a fixed number of statements: products are
upserted on ``code`` (``INSERT … ON CONFLICT``), their category links replaced, their
attribute values upserted (:mod:`.attributes`), their images synced (:mod:`.images`).

Bulk statements skip Oscar's model signals, so what those receivers keep consistent is
kept here, set-based: ``Category.ancestors_are_public`` (Oscar's
``post_save_set_ancestors_are_public``), the cached category URLs, and the
``catalogue_product_category_hierarchy`` materialised view when Oscar uses it
(``OSCAR_CATALOGUE_USE_POSTGRES_MATERIALISED_VIEWS``).
"""

import logging
import os

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone
from oscar.checks import use_productcategory_materialised_view
from oscar.core.loading import get_model
from oscar.core.utils import slugify

from integration_1c import conf
from integration_1c.commerceml import records as rec
from integration_1c.models import Catalogue, CategoryExchange, ProductExchange

from . import attributes as attrs
from .attributes import FIXED_ATTRIBUTES, FULL_NAME_REQUISITE, write_values
from .bulk import delete_where_in, insert_new, update_rows, upsert
from .digests import ProductDigests
from .stock import stock_written

logger = logging.getLogger(__name__)

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
StockRecord = get_model("partner", "StockRecord")


def make_slug(title, fallback):
    """Transliterated slug of a title (Oscar's slug function), never empty."""
    slug = slugify(title)[:255].strip("-")
    return slug or slugify(fallback)[:255].strip("-") or "item"


# -- categories ----------------------------------------------------------------------------


class CategoryWriter:
    """
    Puts 1C groups into Oscar's category tree. The whole tree is read once per write
    (a shop has hundreds or thousands of categories, not millions); new nodes get
    their materialised paths computed here and are inserted in one statement, changed
    ones updated in one statement; only a group that moved to another parent goes
    through treebeard's ``move`` (it rewrites the paths of a whole subtree).
    """

    def __init__(self, ctx):
        self.ctx = ctx
        self.report = ctx.report
        #: Whether this file listed any group (a full package then hides the others).
        self.listed_any = False
        self.changed = False

    def write(self, groups):
        steplen = Category.steplen
        nodes = list(
            Category.objects.order_by().values(
                "id", "code", "path", "depth", "numchild", "name", "slug", "is_public"
            )
        )
        by_code = {node["code"]: node for node in nodes if node["code"]}
        by_path = {node["path"]: node for node in nodes}
        last_child = {}
        for node in nodes:
            parent_path = node["path"][:-steplen]
            if node["path"] > last_child.get(parent_path, ""):
                last_child[parent_path] = node["path"]

        unique = {}
        for group in groups:
            if group.id:
                unique[group.id] = group  # the last description of a group wins
        new_nodes, dirty, moves = [], {}, []
        for group in unique.values():
            self.listed_any = True
            parent_path = ""
            if group.parent_id:
                parent = by_code.get(group.parent_id)
                if parent is None:
                    self.report.warn(
                        f"группа {group.id} «{group.name}»: родительская группа {group.parent_id} не найдена — "
                        "группа помещена в корень каталога"
                    )
                else:
                    parent_path = parent["path"]
            name = (group.name or group.id)[:255]
            fields = {"name": name, "slug": make_slug(name, group.id), "is_public": not group.deleted}
            node = by_code.get(group.id)
            if node is None:
                path = self._next_path(parent_path, last_child)
                node = {
                    "id": None,
                    "code": group.id,
                    "path": path,
                    "depth": len(path) // steplen,
                    "numchild": 0,
                }
                node.update(fields)
                by_code[group.id] = by_path[path] = node
                if parent_path:
                    parent = by_path[parent_path]
                    parent["numchild"] += 1
                    if parent["id"] is not None:
                        dirty[parent["id"]] = parent
                new_nodes.append(node)
                self.report.created += 1
                if group.deleted:
                    self.report.hidden += 1
            else:
                if node["path"][:-steplen] != parent_path:
                    moves.append((group.id, group.parent_id if parent_path else None))
                if group.deleted and node["is_public"]:
                    self.report.hidden += 1
                if any(node[key] != value for key, value in fields.items()):
                    node.update(fields)
                    dirty[node["id"]] = node
                self.report.updated += 1

        if new_nodes:
            Category.objects.bulk_create(
                [
                    Category(
                        code=node["code"],
                        path=node["path"],
                        depth=node["depth"],
                        numchild=node["numchild"],
                        name=node["name"],
                        slug=node["slug"],
                        is_public=node["is_public"],
                    )
                    for node in new_nodes
                ]
            )
        if dirty:
            Category.objects.bulk_update(
                [
                    Category(
                        id=node["id"],
                        name=node["name"],
                        slug=node["slug"],
                        is_public=node["is_public"],
                        numchild=node["numchild"],
                    )
                    for node in dirty.values()
                ],
                ["name", "slug", "is_public", "numchild"],
                batch_size=500,
            )
        for code, parent_code in moves:
            self._move(code, parent_code)
        self._touch(list(unique))
        if new_nodes or dirty or moves:
            self.changed = True
            refresh_ancestors_are_public()

    @staticmethod
    def _next_path(parent_path, last_child):
        """The path of a new last child of ``parent_path`` ("" for a root)."""
        steplen = Category.steplen
        last = last_child.get(parent_path)
        position = Category._str2int(last[-steplen:]) + 1 if last else 1
        key = Category._int2str(position)
        path = f"{parent_path}{Category.alphabet[0] * (steplen - len(key))}{key}"
        last_child[parent_path] = path
        return path

    def _move(self, code, parent_code):
        """Move a group under another parent, by treebeard (fresh rows: earlier moves changed paths)."""
        node = Category.objects.get(code=code)
        if parent_code is None:
            if node.depth == 1:
                return
            target = Category.objects.filter(depth=1).order_by("-path").first()
            Category.objects.move(node, target, "last-sibling")
            return
        target = Category.objects.get(code=parent_code)
        if node.path == target.path[: len(node.path)]:
            self.report.warn(
                f"группа {code}: перенос в собственную подгруппу {parent_code} невозможен — оставлена на месте"
            )
            return
        if node.path[: -Category.steplen] == target.path:
            return
        Category.objects.move(node, target, "last-child")

    def _touch(self, codes):
        """Stamp the groups as listed now (``mode=deactivate`` hides the unstamped)."""
        if not codes:
            return
        now = timezone.now()
        ids = Category.objects.filter(code__in=codes).values_list("id", flat=True)
        classifier = (self.ctx.classifier_id or "")[:128]
        CategoryExchange.objects.bulk_create(
            [CategoryExchange(category_id=pk, touched_at=now, classifier=classifier) for pk in ids],
            update_conflicts=True,
            unique_fields=["category"],
            update_fields=["touched_at", "classifier"],
        )

    def hide_missing(self):
        """
        Full package: hide the 1C groups of this file's classifier not listed since
        ``ctx.listed_since`` (by this file or an earlier file of the same run) — only if
        this file listed groups: a catalogue file without a classifier says nothing
        about groups. Groups of another classifier (another 1C node) are left alone.
        """
        if not self.listed_any:
            return 0
        classifier = (self.ctx.classifier_id or "")[:128]
        hidden = (
            untouched_groups([classifier], self.ctx.listed_since).filter(is_public=True).update(is_public=False)
        )
        if hidden:
            self.report.hidden += hidden
            self.changed = True
            refresh_ancestors_are_public()
        return hidden


def refresh_ancestors_are_public():
    """
    ``Category.ancestors_are_public`` for the whole tree in one UPDATE — what Oscar's
    post_save receiver does per saved category, which bulk writes do not trigger.
    """
    hidden_ancestor = Category.objects.filter(
        is_public=False, path__rstartswith=OuterRef("path"), depth__lt=OuterRef("depth")
    )
    Category.objects.update(ancestors_are_public=~Exists(hidden_ancestor))


def forget_category_urls():
    """Drop Oscar's cached category URLs (full slugs change with renames and moves)."""
    ids = list(Category.objects.values_list("id", flat=True))
    languages = [code for code, _ in settings.LANGUAGES]
    cache.delete_many([f"CATEGORY_URL_{language}_{pk}" for language in languages for pk in ids])


def refresh_category_hierarchy():
    """Oscar's product/category materialised view, refreshed once per file instead of per row."""
    if use_productcategory_materialised_view():
        with connection.cursor() as cursor:
            cursor.execute("REFRESH MATERIALIZED VIEW catalogue_product_category_hierarchy")


# -- products ------------------------------------------------------------------------------


class ProductWriter:
    """Upserts a batch of Товар records with their categories, attributes and images."""

    PRODUCT_FIELDS = [
        "title",
        "slug",
        "description",
        "is_public",
        "structure",
        "product_class",
        "parent",
        "date_updated",
    ]

    #: What is read of the products a batch names: enough to tell an unchanged row.
    EXISTING_FIELDS = [
        "id",
        "code",
        "structure",
        "is_public",
        "title",
        "slug",
        "description",
        "product_class_id",
        "parent_id",
    ]

    def __init__(self, ctx, attributes, images=None):
        self.ctx = ctx
        self.report = ctx.report
        self.attributes = attributes
        self.images = images
        self.seen_any = False
        self.digests = ProductDigests(ctx, attributes, images)
        self._categories = None
        self._warned_groups = set()

    def categories_changed(self):
        self._categories = None

    def forget_incomplete(self):
        """
        No digest for the products whose pictures could not all be placed (missing, not
        a picture): the picture process answers for a batch while the next is written,
        after the batch stored its digests, so they are taken back here.
        """
        if self.images is not None and self.images.incomplete:
            incomplete, self.images.incomplete = sorted(self.images.incomplete), set()
            ProductExchange.objects.filter(product_id__in_array=incomplete).update(digest="")

    def _category_ids(self):
        if self._categories is None:
            self._categories = dict(Category.objects.filter(code__isnull=False).values_list("code", "id"))
        return self._categories

    def write(self, records):
        unique = {}
        for record in records:
            unique[record.id] = record
        if not unique:
            return
        self.seen_any = True
        items = {}  # product Ид -> its characteristic items (Товар "p#c")
        plain = {}
        for record in unique.values():
            if record.characteristic_id:
                items.setdefault(record.product_id, []).append(record)
            else:
                plain[record.id] = record
        codes = set(unique) | set(items)
        existing = products_by_code(codes, self.EXISTING_FIELDS, since=self.ctx.started_at, digests=True)
        parents = set()
        known = {}  # parents this file wrote already (earlier batch): only their variants now
        for product_id, group in items.items():
            row = existing.get(product_id)
            if row is not None and row["structure"] == Product.CHILD:
                self.report.skipped += len(group)
                self.report.warn(
                    f"товар {product_id}: на сайте это вариант другого товара — его характеристики пропущены"
                )
                continue
            parents.add(product_id)
            if product_id in plain:
                continue
            if row is not None and (row["updated_since"] if row["onec__touched"] is None else row["onec__touched"]):
                # This file already wrote (or kept, unchanged) the product: its own Товар
                # or earlier items; every product a file lists is touched at once.
                known[product_id] = row
                continue
            plain[product_id] = product_from_items(product_id, group)
        ids = self._write_products(list(plain.values()), existing, parents)
        if known:
            standalone = [row["id"] for row in known.values() if row["structure"] != Product.PARENT]
            if standalone:
                StockRecord.objects.filter(product_id__in=standalone).delete()
                stock_written(standalone)
                Product.objects.filter(id__in=standalone).update(structure=Product.PARENT)
            ids.update({code: row["id"] for code, row in known.items()})
        self._write_items(
            [item for product_id, group in items.items() if product_id in ids for item in group],
            existing,
            ids,
        )

    def _write_products(self, records, existing, parents):
        """
        Upsert standalone / parent products; returns their code -> id. A product whose
        row would not change is not written again (1C repeats whole catalogues); when only
        its categories or attribute values changed, its ``date_updated`` is still moved,
        so that whatever is derived from products written since a moment (the listing
        rows, see ``integration_1c.signals``) sees it. A product whose row is unchanged
        and whose Товар is as it was when its categories, values and pictures were last
        written (:mod:`.digests`) is not looked at further.
        """
        product_class_id = self.ctx.product_class.pk
        rows, kept, new_parents = [], [], []
        unchanged = {}  # code -> id of products whose row is as it would be written
        settled = set()  # codes of unchanged products whose Товар is as last written
        digests = {}  # code -> the Товар's digest, stored with the product's state
        categories = self._category_ids()
        self.digests.prepare(records)
        for record in records:
            row = existing.get(record.id)
            if row is not None and row["structure"] == Product.CHILD:
                self.report.skipped += 1
                self.report.warn(
                    f"товар {record.id} «{record.name}»: на сайте это вариант другого товара — пропущен"
                )
                continue
            structure = row["structure"] if row is not None else Product.STANDALONE
            if record.id in parents and structure != Product.PARENT:
                if row is not None:
                    new_parents.append(row["id"])
                structure = Product.PARENT
            title = (record.name or record.requisites.get(FULL_NAME_REQUISITE) or record.id).strip()[:255]
            same_title = row is not None and row["title"] == title and row["slug"]
            values = {
                "code": record.id,
                "title": title,
                "slug": row["slug"] if same_title else make_slug(title, record.id),
                "description": record.description or "",
                "is_public": is_public(record),
                "structure": structure,
                "product_class_id": product_class_id,
                "parent_id": None,
            }
            digest = digests[record.id] = self.digests.of(
                record, tuple(categories.get(group_id) for group_id in record.group_ids)
            )
            if row is not None and all(row[name] == value for name, value in values.items()):
                unchanged[record.id] = row["id"]
                if digest and row["onec__digest"] == digest and row["onec__fresh"]:
                    settled.add(record.id)
            else:
                rows.append(values)
            kept.append(record)
            if row is None:
                self.report.created += 1
                if not is_public(record):
                    self.report.hidden += 1
            else:
                self.report.updated += 1
                if not is_public(record) and row["is_public"]:
                    self.report.hidden += 1
        if not kept:
            return {}
        if new_parents:
            # Oscar keeps no stock on a parent: its variants carry it.
            StockRecord.objects.filter(product_id__in=new_parents).delete()
            stock_written(new_parents)
        ids = write_products(rows, existing, self.PRODUCT_FIELDS)
        ids.update(unchanged)
        warnings = self.report.warning_count()
        written = [record for record in kept if record.id not in settled]
        written_ids = {record.id: ids[record.id] for record in written}
        changed = self._write_categories(written, written_ids) | self._write_attributes(written, written_ids)
        if self.images is not None:
            self.images.write(written, written_ids)
            self.forget_incomplete()
        stamp = changed & set(unchanged.values())
        if stamp:
            Product.objects.filter(id__in_array=sorted(stamp)).update(date_updated=timezone.now())
        if self.report.warning_count() != warnings:
            # Which product warned is not known here: the batch is looked at again next time.
            digests = {code: digest if code in settled else "" for code, digest in digests.items()}
        stateless = [
            pk for code, pk in ids.items() if existing.get(code) is None or existing[code]["onec__touched"] is None
        ]
        touch_products(
            list(ids.values()),
            self.ctx.catalogue_id,
            stateless=stateless,
            digests={ids[code]: digest for code, digest in digests.items() if code in ids},
        )
        return ids

    def _write_items(self, items, existing, parent_ids):
        """
        Товар items "p#c" as variants (child products) of ``p``: title, visibility,
        characteristics, article and barcode; the offers then bring prices and stock.
        A product the old import made of an item (standalone "p#c") becomes a variant.
        """
        if not items:
            return
        rows, converted = [], []
        for item in items:
            row = existing.get(item.id)
            if row is None:
                self.report.created += 1
            else:
                self.report.updated += 1
                if row["structure"] != Product.CHILD:
                    converted.append(row["id"])
            title = (item.name or "").strip()[:255]
            same_title = row is not None and row["title"] == title and row["slug"]
            rows.append(
                {
                    "code": item.id,
                    "parent_id": parent_ids[item.product_id],
                    "structure": Product.CHILD,
                    "product_class_id": None,
                    "title": title,
                    "slug": row["slug"] if same_title else make_slug(title, item.id),
                    "is_public": is_public(item),
                    "description": item.description or "",
                }
            )
        if converted:
            # A variant belongs to its parent's categories (Oscar): drop its own links.
            delete_where_in(ProductCategory, "product_id", converted)
        written = write_products(rows, existing, OFFER_CHILD_FIELDS)
        write_variant_attributes(
            self.attributes, [(item, written[item.id]) for item in items], with_properties=False
        )

    def _write_categories(self, records, ids):
        categories = self._category_ids()
        links = {}
        for record in records:
            product_id = ids[record.id]
            for group_id in record.group_ids:
                category_id = categories.get(group_id)
                if category_id is None:
                    if group_id not in self._warned_groups:
                        self._warned_groups.add(group_id)
                        self.report.warn(
                            f"товар {record.id} «{record.name}»: группа {group_id} не найдена в классификаторе — "
                            "товар в неё не помещён"
                        )
                    continue
                links[(product_id, category_id)] = {"product_id": product_id, "category_id": category_id}
        stale, changed = [], set()
        for pk, product_id, category_id in (
            ProductCategory.objects.order_by()
            .filter(product_id__in_array=list(ids.values()))
            .values_list("id", "product_id", "category_id")
        ):
            if links.pop((product_id, category_id), None) is None:
                stale.append(pk)
                changed.add(product_id)
        # Raw delete: ProductCategory's post_delete receiver would load and signal every row.
        delete_where_in(ProductCategory, "id", stale)
        insert_new(ProductCategory, list(links.values()), unique=["product", "category"], update=[])
        changed.update(product_id for product_id, _ in links)
        return changed  # products whose categories changed

    def _write_attributes(self, records, ids):
        index = self.attributes
        managed_ids = index.fixed_ids() | index.ids_with_prefix(attrs.PROPERTY_PREFIX)
        characteristic_ids = index.ids_with_prefix(attrs.CHARACTERISTIC_PREFIX)
        rows, managed = [], {}
        for record in records:
            product_id = ids[record.id]
            owner = f"товар {record.id} «{record.name}»"
            texts = {
                "article": record.article,
                "barcode": record.barcode,
                "unit": index.unit_text(record.unit_code, record.unit_name),
                "full_name": record.requisites.get(FULL_NAME_REQUISITE, ""),
            }
            for code in FIXED_ATTRIBUTES:
                row = index.text_value(product_id, code, (texts[code] or "").strip())
                if row is not None:
                    rows.append(row)
            rows.extend(index.property_values(product_id, record.properties, owner=owner))
            if record.characteristics:
                by_name = index.characteristic_ids([name for name, _ in record.characteristics])
                characteristic_ids |= set(by_name.values())
                rows.extend(characteristic_values(product_id, record.characteristics, by_name))
            managed[product_id] = managed_ids | characteristic_ids
        return write_values(rows, managed)  # products whose values changed


def write_products(rows, existing, update):
    """
    Write product rows (keyed by ``code``) and return their code -> id. Rows whose code
    ``existing`` (what the batch read) holds are updated by id; the others are new
    (:func:`.bulk.insert_new`).
    """
    changed = [{"id": existing[row["code"]]["id"], **row} for row in rows if row["code"] in existing]
    update_rows(Product, changed, update)
    ids = {row["code"]: row["id"] for row in changed}
    new = [row for row in rows if row["code"] not in existing]
    ids.update(insert_new(Product, new, unique=["code"], update=update, returning=["code", "id"]))
    return ids


#: Fields a variant's upsert rewrites (by a Товар item or a Предложение).
OFFER_CHILD_FIELDS = ["title", "slug", "is_public", "parent", "structure", "product_class", "description"]


def is_public(record):
    """Shown in the shop: not deleted in 1C and not switched off (CML2_ACTIVE=false)."""
    return not record.deleted and record.active is not False


def product_from_items(product_id, items):
    """
    The product of characteristic items sent without a Товар of its own (УТ 10.x): the
    shared Наименование, the groups, properties and pictures of its items.
    """
    first = items[0]
    product = rec.Product(
        id=product_id,
        name=shared_name([item.name for item in items], [item.characteristics for item in items]),
        description=next((item.description for item in items if item.description), ""),
        unit_code=first.unit_code,
        unit_name=first.unit_name,
        requisites=dict(first.requisites),
        tax_rates=list(first.tax_rates),
        manufacturer=first.manufacturer,
        deleted=all(item.deleted for item in items),
        active=False if all(item.active is False for item in items) else None,
    )
    seen_images, seen_properties = set(), set()
    for item in items:
        for group_id in item.group_ids:
            if group_id not in product.group_ids:
                product.group_ids.append(group_id)
        for pair in item.properties:
            if pair not in seen_properties:
                seen_properties.add(pair)
                product.properties.append(pair)
        for image in item.images:
            if image.path not in seen_images:
                seen_images.add(image.path)
                product.images.append(image)
    return product


def shared_name(names, characteristics=()):
    """
    The product name that characteristic items share: "Футболка" of "Футболка (красный,
    XL)" and "Футболка (синий, M)" — the items' names without the characteristics' values.
    """
    names = [name.strip() for name in names if name and name.strip()]
    if not names:
        return ""
    if len(set(names)) == 1:
        return names[0]
    values = {value.strip() for pairs in characteristics for _, value in pairs if value and value.strip()}
    stripped = []
    for name in names:
        base = name
        if base.endswith(")") and "(" in base:
            base = base[: base.rindex("(")].rstrip(" ,")
        else:
            words = base.replace(",", " ").split()
            while words and words[-1] in values:
                words.pop()
            base = " ".join(words) if words else base
        stripped.append(base)
    if len(set(stripped)) == 1:
        return stripped[0]
    prefix = os.path.commonprefix(stripped).rstrip(" ,(-")
    return prefix if len(prefix) >= 3 else names[0]


def write_variant_attributes(index, pairs, *, with_properties=True):
    """
    Characteristics (``c_`` text attributes), article, barcode and (offers) properties of
    variants, from Предложение or Товар-item records: ``pairs`` of (record, product id).
    """
    rows, managed = [], {}
    characteristic_ids = None
    for record, product_id in pairs:
        owned = set()
        if record.characteristics:
            by_name = index.characteristic_ids([name for name, _ in record.characteristics])
            if characteristic_ids is None:
                characteristic_ids = index.ids_with_prefix(attrs.CHARACTERISTIC_PREFIX)
            characteristic_ids |= set(by_name.values())
            owned |= characteristic_ids
            rows.extend(characteristic_values(product_id, record.characteristics, by_name))
        for code, text in (("article", record.article), ("barcode", record.barcode)):
            row = index.text_value(product_id, code, (text or "").strip())
            if row is not None:
                owned.add(row["attribute_id"])
                rows.append(row)
        if with_properties and record.properties:
            owned |= index.ids_with_prefix(attrs.PROPERTY_PREFIX)
            rows.extend(index.property_values(product_id, record.properties, owner=f"предложение {record.id}"))
        if owned:
            managed[product_id] = owned
    write_values(rows, managed)


def characteristic_values(product_id, characteristics, attribute_ids):
    """Text value rows for (name, value) characteristics; repeated names are joined."""
    values = {}
    for name, value in characteristics:
        value = (value or "").strip()
        attribute_id = attribute_ids.get(name)
        if attribute_id is None or not value:
            continue
        if attribute_id in values:
            if value not in values[attribute_id].split(", "):
                values[attribute_id] = f"{values[attribute_id]}, {value}"
        else:
            values[attribute_id] = value
    return [
        attrs.value_row(product_id, attribute_id, value_text=value) for attribute_id, value in values.items()
    ]


# -- the products' 1C state ------------------------------------------------------------------


def products_by_code(codes, fields, *, since, digests=False):
    """
    The products of these 1C codes (``Product.code``), code -> dict of ``fields`` and
    two answers about ``since`` (this file's start, or its run's): ``onec__touched``,
    None for a product without a 1C state row, else whether its state was stamped at or
    after ``since``; ``updated_since``, whether the product row was written then. The
    moments are compared by PostgreSQL: loading the timestamps themselves (Django's
    loader is Python) cost more than both queries, 0.1 s of every 10,000 products a
    repeated catalogue names. Two reads rather than a join: for a batch of a few
    thousand codes PostgreSQL hashed the whole state table — a scan of 100,000 rows, 40
    ms, for every batch of a 100k catalogue — instead of looking the batch's few
    thousand rows up by product. ``digests``: also ``onec__digest``, the state's digest
    of the product's last Товar (:mod:`.digests`), and ``onec__fresh``, whether nobody
    saved the product since it was stored.
    """
    names = [*fields, "updated_since"]
    rows = {}
    for values in (
        Product.objects.order_by()
        .filter(code__in_array=list(codes))
        .annotate(updated_since=ExpressionWrapper(Q(date_updated__gte=since), output_field=BooleanField()))
        .values_list(*names)
    ):
        row = dict(zip(names, values))
        rows[row["code"]] = row
    states = (
        ProductExchange.objects.order_by()
        .filter(product_id__in_array=[row["id"] for row in rows.values()])
        .annotate(touched=ExpressionWrapper(Q(touched_at__gte=since), output_field=BooleanField()))
    )
    if not digests:
        touched = dict(states.values_list("product_id", "touched"))
        for row in rows.values():
            row["onec__touched"] = touched.get(row["id"])
        return rows
    # Compared by PostgreSQL, looked up by primary key per state row.
    saved_since = Product.objects.filter(pk=OuterRef("product_id"), date_updated__gt=OuterRef("written_at"))
    known = {
        product_id: (touched, digest, fresh)
        for product_id, touched, digest, fresh in states.annotate(
            fresh=ExpressionWrapper(Q(written_at__isnull=False) & ~Exists(saved_since), output_field=BooleanField())
        ).values_list("product_id", "touched", "digest", "fresh")
    }
    for row in rows.values():
        row["onec__touched"], row["onec__digest"], row["onec__fresh"] = known.get(row["id"], (None, "", False))
    return rows


def touch_products(product_ids, catalogue, *, claim=True, stateless=None, digests=None):
    """
    Stamp products (parents / standalone) as written by this exchange now. ``claim``:
    the catalogue file lists them, so they belong to ``catalogue`` from now on; an offers
    file only stamps (and names the catalogue of a product that has no 1C state yet).
    ``stateless``: those of them the caller read without a state row (the others have
    one, and are updated); None when the caller does not know (every row is upserted).
    ``digests``: product id -> the digest of the Товар just written for each of them
    (:mod:`.digests`), stored as written now.
    """
    if not product_ids:
        return
    now = timezone.now()
    update = ["catalogue", "touched_at"] if claim else ["touched_at"]
    rows = [{"product_id": pk, "catalogue": catalogue or "", "touched_at": now} for pk in sorted(set(product_ids))]
    if digests is not None:
        update += ["digest", "written_at"]
        for row in rows:
            row["digest"] = digests.get(row["product_id"], "")
            row["written_at"] = now
    if stateless is None:
        upsert(ProductExchange, rows, unique=["product"], update=update)
        return
    stateless = set(stateless)
    update_rows(
        ProductExchange, [{"id": row["product_id"], **row} for row in rows if row["product_id"] not in stateless], update
    )
    insert_new(
        ProductExchange, [row for row in rows if row["product_id"] in stateless], unique=["product"], update=update
    )


def in_catalogue(queryset, catalogue):
    """
    ``queryset`` (1C products) narrowed to ``catalogue``. Products imported before
    catalogues were told apart have no 1C state: they belong to whichever catalogue
    asks (the shop had one), until a file of a catalogue lists them. A file that names
    no catalogue ("") speaks for the whole shop, as before.
    """
    if not catalogue:
        return queryset
    return queryset.filter(Q(onec__catalogue=catalogue) | Q(onec__isnull=True))


# -- hiding --------------------------------------------------------------------------------


HIDE, KEEP, ZERO = "hide", "keep", "zero"
MISSING_POLICIES = (HIDE, KEEP, ZERO)


def full_package_missing():
    """
    conf ``ONEC_FULL_PACKAGE_MISSING``: what a full package does to the products of its
    catalogue that it does not list — ``hide`` them (default), ``keep`` them as they
    are, or ``zero`` their stock (they stay visible, «нет в наличии»).
    """
    value = str(conf.get("ONEC_FULL_PACKAGE_MISSING") or HIDE).strip().lower()
    if value not in MISSING_POLICIES:
        logger.warning("ONEC_FULL_PACKAGE_MISSING=%r is not one of %s: hiding", value, ", ".join(MISSING_POLICIES))
        return HIDE
    return value


def onec_products():
    """Products that came from 1C (they carry its Ид), without variants."""
    return Product.objects.filter(code__isnull=False, parent__isnull=True)


def untouched_products(catalogue, since):
    """
    1C products of ``catalogue`` that no exchange wrote since ``since``: neither their
    Товар nor an offer, price or stock of theirs (``ProductExchange.touched_at``;
    products without 1C state by their own ``date_updated``).
    """
    products = in_catalogue(onec_products(), catalogue)
    return products.filter(
        Q(onec__touched_at__lt=since) | Q(onec__isnull=True, date_updated__lt=since)
    )


def apply_missing_products(catalogue, since, policy=None, *, counted_before=None):
    """
    The full-package rule for the products of ``catalogue`` not written since
    ``since``: hide them or zero their stock (``policy``, default the setting).
    Returns how many products it hid or zeroed.
    """
    policy = policy or full_package_missing()
    if policy == KEEP:
        return 0
    products = untouched_products(catalogue, since)
    if policy == HIDE:
        return products.filter(is_public=True).update(is_public=False)
    return zero_stock_of(products, counted_before=counted_before)


def zero_stock_of(products, *, counted_before=None):
    """Nothing left on 1C's warehouses for ``products`` (and their variants); returns how many."""
    from . import stock

    sales_id = stock.sales_partner().pk
    product_ids = list(products.values_list("id", flat=True))
    zeroed = 0
    size = int(conf.get("ONEC_BATCH_SIZE"))
    for start in range(0, len(product_ids), size):
        chunk = product_ids[start : start + size]
        records = StockRecord.objects.filter(
            Q(product_id__in=chunk) | Q(product__parent_id__in=chunk), num_in_stock__gt=0
        ).exclude(partner_id=sales_id)
        sellable = set(records.values_list("product_id", flat=True))
        if not sellable:
            continue
        zeroed += len(set(Product.objects.filter(id__in=sellable).values_list("parent_id", "id")))
        records.update(num_in_stock=0)
        stock.stock_written(sellable)
        stock.recompute_sales_stock(sorted(sellable), counted_before=counted_before)
    return zeroed


def untouched_groups(classifiers, since):
    """1C groups of ``classifiers`` (groups without a classifier: of any) not listed since ``since``."""
    listed = Exists(CategoryExchange.objects.filter(category_id=OuterRef("pk"), touched_at__gte=since))
    groups = Category.objects.filter(code__isnull=False).exclude(listed)
    if all(classifiers):  # a file that names no classifier speaks for every group
        groups = groups.filter(Q(onec__classifier__in=[*classifiers, ""]) | Q(onec__isnull=True))
    return groups


def record_catalogue(document, *, full_started_at=None):
    """Remember a catalogue a file named (and when its last full package started)."""
    code = (document.catalogue_id or "")[:128]
    defaults = {"name": (document.name or "")[:255]}
    if document.classifier_id:
        defaults["classifier_code"] = document.classifier_id[:128]
    if full_started_at is not None:
        defaults["full_import_started_at"] = full_started_at
    Catalogue.objects.update_or_create(code=code, defaults=defaults)


def deactivate_untouched(since):
    """
    ``type=catalog&mode=deactivate`` (3.x), as 1C-Bitrix does it: in every catalogue
    whose full catalogue package started at or after ``since`` (the checkauth
    timestamp, see the handler), the products no exchange wrote since then — their
    Товар, or an offer, price or stock — follow ``ONEC_FULL_PACKAGE_MISSING``, and the
    groups of their classifiers that were not listed are hidden. A run that sent only
    offers, prices or rests imported no full catalogue: nothing is hidden.

    The storefront's listing rows follow in the same transaction (``catalogue_changed``,
    as after a file): the products hidden here are hidden by one UPDATE and their stock
    zeroed by another, which no model signal reports.

    Returns (products hidden or zeroed, groups hidden).
    """
    from integration_1c.signals import catalogue_changed

    from . import stock

    started = timezone.now()
    with transaction.atomic():
        with stock.recording_writes() as stock_written:
            products, groups = _deactivate_untouched(since)
        if products or groups:
            catalogue_changed.send(
                sender=deactivate_untouched, since=started, kind="deactivate", full=True, stock_written=stock_written
            )
    return products, groups


def _deactivate_untouched(since):
    catalogues = list(
        Catalogue.objects.filter(full_import_started_at__gte=since).values_list("code", "classifier_code")
    )
    products = 0
    for code, _ in catalogues:
        products += apply_missing_products(code, since)
    groups = 0
    classifiers = {classifier for _, classifier in catalogues}
    if classifiers:
        groups = untouched_groups(classifiers, since).filter(is_public=True).update(is_public=False)
    if groups:
        refresh_ancestors_are_public()
        forget_category_urls()
    if products or groups:
        refresh_category_hierarchy()
    return products, groups
