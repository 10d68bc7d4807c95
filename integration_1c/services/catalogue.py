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

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from oscar.checks import use_productcategory_materialised_view
from oscar.core.loading import get_model
from oscar.core.utils import slugify

from integration_1c import conf
from integration_1c.models import CategoryExchange

from . import attributes as attrs
from .attributes import FIXED_ATTRIBUTES, FULL_NAME_REQUISITE, write_values
from .bulk import delete_where_in, upsert

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")


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
        CategoryExchange.objects.bulk_create(
            [CategoryExchange(category_id=pk, touched_at=now) for pk in ids],
            update_conflicts=True,
            unique_fields=["category"],
            update_fields=["touched_at"],
        )

    def hide_missing(self):
        """
        Full package: hide the 1C groups not listed since ``ctx.listed_since`` (by this
        file or an earlier file of the same exchange) — only if this file listed groups:
        a catalogue file without a classifier says nothing about groups.
        """
        if not self.listed_any:
            return 0
        listed = Exists(
            CategoryExchange.objects.filter(category_id=OuterRef("pk"), touched_at__gte=self.ctx.listed_since)
        )
        hidden = (
            Category.objects.filter(code__isnull=False, is_public=True)
            .exclude(listed)
            .update(is_public=False)
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

    def __init__(self, ctx, attributes, images=None):
        self.ctx = ctx
        self.report = ctx.report
        self.attributes = attributes
        self.images = images
        self.seen_any = False
        self._categories = None
        self._warned_groups = set()

    def categories_changed(self):
        self._categories = None

    def _category_ids(self):
        if self._categories is None:
            self._categories = dict(Category.objects.filter(code__isnull=False).values_list("code", "id"))
        return self._categories

    def write(self, records):
        unique = {}
        for record in records:
            unique[record.id] = record
        records = list(unique.values())
        if not records:
            return
        self.seen_any = True
        existing = {
            row["code"]: row
            for row in Product.objects.order_by()
            .filter(code__in_array=list(unique))
            .values("id", "code", "structure", "is_public", "title", "slug")
        }
        product_class_id = self.ctx.product_class.pk
        rows, kept = [], []
        for record in records:
            row = existing.get(record.id)
            if row is not None and row["structure"] == Product.CHILD:
                self.report.skipped += 1
                self.report.warn(
                    f"товар {record.id} «{record.name}»: на сайте это вариант другого товара — пропущен"
                )
                continue
            title = (record.name or record.requisites.get(FULL_NAME_REQUISITE) or record.id).strip()[:255]
            same_title = row is not None and row["title"] == title and row["slug"]
            rows.append(
                {
                    "code": record.id,
                    "title": title,
                    "slug": row["slug"] if same_title else make_slug(title, record.id),
                    "description": record.description or "",
                    "is_public": not record.deleted,
                    "structure": row["structure"] if row is not None else Product.STANDALONE,
                    "product_class_id": product_class_id,
                    "parent_id": None,
                }
            )
            kept.append(record)
            if row is None:
                self.report.created += 1
                if record.deleted:
                    self.report.hidden += 1
            else:
                self.report.updated += 1
                if record.deleted and row["is_public"]:
                    self.report.hidden += 1
        if not rows:
            return
        written = upsert(Product, rows, unique=["code"], update=self.PRODUCT_FIELDS, returning=["code", "id"])
        ids = dict(written)
        self._write_categories(kept, ids)
        self._write_attributes(kept, ids)
        if self.images is not None:
            self.images.write(kept, ids)

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
        stale = []
        for pk, product_id, category_id in (
            ProductCategory.objects.order_by()
            .filter(product_id__in_array=list(ids.values()))
            .values_list("id", "product_id", "category_id")
        ):
            if links.pop((product_id, category_id), None) is None:
                stale.append(pk)
        # Raw delete: ProductCategory's post_delete receiver would load and signal every row.
        delete_where_in(ProductCategory, "id", stale)
        upsert(ProductCategory, list(links.values()), unique=["product", "category"], update=[])

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


# -- hiding --------------------------------------------------------------------------------


def onec_products():
    """Products that came from 1C (they carry its Ид), without variants."""
    return Product.objects.filter(code__isnull=False, parent__isnull=True)


def hide_products_not_updated_since(moment):
    """Hide 1C products no import has written since ``moment``; returns how many."""
    return onec_products().filter(date_updated__lt=moment, is_public=True).update(is_public=False)


def deactivate_untouched(since):
    """
    ``type=catalog&mode=deactivate`` (3.x): hide every 1C product and group not touched
    since ``since`` (the timestamp handed out in ``checkauth``).

    Products are "touched" when an import wrote them (``Product.date_updated``, which
    every product upsert sets). Oscar's Category has no such date, so the import stamps
    ``CategoryExchange.touched_at`` for every group it reads; a 1C group without a stamp
    has never been listed since stamps exist and counts as untouched. Returns how many
    products and groups it hid.
    """
    products = hide_products_not_updated_since(since)
    stale = Exists(CategoryExchange.objects.filter(category_id=OuterRef("pk"), touched_at__gte=since))
    groups = (
        Category.objects.filter(code__isnull=False, is_public=True).exclude(stale).update(is_public=False)
    )
    if groups:
        refresh_ancestors_are_public()
        forget_category_urls()
    if products or groups:
        refresh_category_hierarchy()
    return products + groups


def hide_missing_enabled():
    return conf.get("ONEC_FULL_PACKAGE_MISSING") == "hide"
