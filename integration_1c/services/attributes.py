"""
1C properties, requisites and characteristics as Oscar product attributes.

Every 1C product lives in one ProductClass (conf ``ONEC_PRODUCT_CLASS_NAME``) and
its attributes are:

* ``article``, ``barcode``, ``unit``, ``full_name``: Артикул, Штрихкод, БазоваяЕдиница
  and the "Полное наименование" requisite, as text;
* ``p_<Ид>`` for each Свойство (``-`` in the Ид becomes ``_``): Строка -> text,
  Число -> float, Булево -> boolean, Справочник -> option, whose AttributeOptionGroup has
  ``code`` = the property Ид and whose options have ``code`` = ИдЗначения, so a value
  sent as an ИдЗначения finds its option whatever its text became;
* ``c_<slug>`` for each characteristic name (ХарактеристикиТовара), as text.

Values are written set-based: per batch, one query reads the 1C-managed values the
products have, one upsert writes the new and changed ones (unchanged ones are not
rewritten) and one delete drops the rest.
Manager-made attributes (any other code) are never touched.
"""

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from oscar.core.loading import get_model
from unidecode import unidecode

from integration_1c.models import Unit

from .bulk import delete_where_in, insert_new, update_rows

ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
AttributeOptionGroup = get_model("catalogue", "AttributeOptionGroup")
AttributeOption = get_model("catalogue", "AttributeOption")

#: Fixed attributes every 1C product may carry: code -> name shown in the shop.
FIXED_ATTRIBUTES = {
    "article": "Артикул",
    "barcode": "Штрихкод",
    "unit": "Единица измерения",
    "full_name": "Полное наименование",
}
FULL_NAME_REQUISITE = "Полное наименование"

PROPERTY_PREFIX = "p_"
CHARACTERISTIC_PREFIX = "c_"
_CODE_MAX = 128
_NOT_CODE_CHARS = re.compile(r"[^0-9A-Za-z_]+")

VALUE_TYPES = {
    "string": ProductAttribute.TEXT,
    "number": ProductAttribute.FLOAT,
    "reference": ProductAttribute.OPTION,
    "boolean": ProductAttribute.BOOLEAN,
    # Dates come in several spellings; shown as 1C wrote them.
    "date": ProductAttribute.TEXT,
}
TRUE_WORDS = frozenset({"true", "1", "да", "yes", "истина"})
FALSE_WORDS = frozenset({"false", "0", "нет", "no", "ложь"})
#: The value columns the services write; every upsert sets all of them, so a property
#: whose type changed in 1C leaves no stale value in the old column.
VALUE_FIELDS = ("value_text", "value_float", "value_boolean", "value_option")


def _short_hash(value, length=8):
    return hashlib.sha1(value.encode("utf-8")).hexdigest()[:length]


def _safe_code(prefix, body, source):
    """``prefix + body`` as an attribute code Oscar accepts (letters, digits, _; ≤128)."""
    clean = _NOT_CODE_CHARS.sub("_", unidecode(body)).strip("_")
    if not clean or clean != body:
        clean = f"{clean}_{_short_hash(source)}" if clean else _short_hash(source, 12)
    code = f"{prefix}{clean}"
    if len(code) > _CODE_MAX:
        code = f"{code[: _CODE_MAX - 9]}_{_short_hash(source)}"
    return code


@lru_cache(maxsize=4096)
def property_attribute_code(property_id):
    """``p_<Ид with '-' replaced by '_'>`` (other odd characters too, made unique by a hash)."""
    return _safe_code(PROPERTY_PREFIX, property_id.replace("-", "_"), property_id)


@lru_cache(maxsize=4096)
def characteristic_attribute_code(name):
    """``c_<transliterated slug of the characteristic name, '_' for '-'>``: "Цвет" -> ``c_tsvet``."""
    from oscar.core.utils import slugify

    return _safe_code(CHARACTERISTIC_PREFIX, slugify(name).replace("-", "_"), name)


def parse_number(text):
    """1C numbers: "12,5", "1 200.00", "12.5"; None when not a number."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text or "").replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    return float(number) if number.is_finite() else None


@dataclass(slots=True)
class AttributeInfo:
    id: int
    code: str
    type: str
    option_group_id: int | None


class AttributeIndex:
    """
    The 1C product class's attributes and options, kept in memory for one import (a
    classifier has hundreds of properties, not millions), so products resolve their
    values without a query per value.
    """

    def __init__(self, ctx):
        self.ctx = ctx
        self.report = ctx.report
        self.by_code: dict[str, AttributeInfo] = {}
        #: option group id -> {ИдЗначения: option id}
        self.options_by_key: dict[int, dict[str, int]] = {}
        #: option group id -> {option text, casefolded: option id}
        self.options_by_text: dict[int, dict[str, int]] = {}
        self.units: dict[str, Unit] | None = None
        self._warned: set = set()
        self._fingerprint = None
        self._load()

    # -- loading -------------------------------------------------------------------------

    def _load(self):
        product_class = self.ctx.product_class
        missing = [
            ProductAttribute(product_class=product_class, code=code, name=name, type=ProductAttribute.TEXT)
            for code, name in FIXED_ATTRIBUTES.items()
        ]
        ProductAttribute.objects.bulk_create(missing, ignore_conflicts=True)
        self.by_code = {
            row["code"]: AttributeInfo(row["id"], row["code"], row["type"], row["option_group_id"])
            for row in ProductAttribute.objects.filter(product_class=product_class).values(
                "id", "code", "type", "option_group_id"
            )
        }
        group_ids = {info.option_group_id for info in self.by_code.values() if info.option_group_id}
        self._load_options(group_ids)

    def _load_options(self, group_ids):
        self._fingerprint = None
        for group_id in group_ids:
            self.options_by_key[group_id] = {}
            self.options_by_text[group_id] = {}
        rows = AttributeOption.objects.filter(group_id__in=group_ids).values(
            "id", "group_id", "code", "option"
        )
        groups = dict(AttributeOptionGroup.objects.filter(id__in=group_ids).values_list("id", "code"))
        for row in rows:
            key = option_key(groups.get(row["group_id"]) or "", row["code"])
            if key:
                self.options_by_key[row["group_id"]][key] = row["id"]
            self.options_by_text[row["group_id"]].setdefault(row["option"].casefold(), row["id"])

    def fingerprint(self):
        """
        Bytes that change whenever what a product's Товар resolves to may: the fixed and
        property attributes (ids, types, option groups), the options of those groups and
        the units. Characteristic attributes (``c_``, made by offers for variants) are
        left out: a product's own values never use them unless its Товар names
        characteristics, whose attributes its digest then holds (``services.digests``).
        """
        if self._fingerprint is None:
            infos = sorted(
                (info.code, info.id, info.type, info.option_group_id or 0)
                for code, info in self.by_code.items()
                if code in FIXED_ATTRIBUTES or code.startswith(PROPERTY_PREFIX)
            )
            groups = {info[3] for info in infos if info[3]}
            state = (
                infos,
                sorted((group, sorted(self.options_by_key.get(group, {}).items())) for group in groups),
                sorted((group, sorted(self.options_by_text.get(group, {}).items())) for group in groups),
                sorted((code, unit.name, unit.full_name) for code, unit in self._known_units().items()),
            )
            self._fingerprint = hashlib.blake2b(repr(state).encode(), digest_size=16).digest()
        return self._fingerprint

    def fixed_ids(self):
        return {self.by_code[code].id for code in FIXED_ATTRIBUTES}

    def ids_with_prefix(self, prefix):
        return {info.id for code, info in self.by_code.items() if code.startswith(prefix)}

    def warn_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            self.report.warn(message)

    # -- properties (Свойство) -----------------------------------------------------------

    def write_properties(self, properties):
        """Upsert attributes (and option groups / options for Справочник) for properties."""
        unique = {}
        for prop in properties:
            if prop.id:
                unique[prop.id] = prop
        if not unique:
            return
        properties = list(unique.values())
        references = [prop for prop in properties if prop.value_type == "reference"]
        group_ids = {}
        if references:
            AttributeOptionGroup.objects.bulk_create(
                [
                    AttributeOptionGroup(code=prop.id, name=(prop.name or prop.id)[:128])
                    for prop in references
                ],
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=["name"],
            )
            group_ids = dict(
                AttributeOptionGroup.objects.filter(code__in=[prop.id for prop in references]).values_list(
                    "code", "id"
                )
            )
            self._write_options(references, group_ids)
        product_class = self.ctx.product_class
        attributes = [
            ProductAttribute(
                product_class=product_class,
                code=property_attribute_code(prop.id),
                name=(prop.name or prop.id)[:128],
                type=VALUE_TYPES.get(prop.value_type, ProductAttribute.TEXT),
                option_group_id=group_ids.get(prop.id),
            )
            for prop in properties
        ]
        ProductAttribute.objects.bulk_create(
            attributes,
            update_conflicts=True,
            unique_fields=["code", "product_class"],
            update_fields=["name", "type", "option_group"],
        )
        codes = [attribute.code for attribute in attributes]
        for row in ProductAttribute.objects.filter(product_class=product_class, code__in=codes).values(
            "id", "code", "type", "option_group_id"
        ):
            self.by_code[row["code"]] = AttributeInfo(
                row["id"], row["code"], row["type"], row["option_group_id"]
            )
        self._load_options(set(group_ids.values()))

    def _write_options(self, references, group_ids):
        """
        Upsert the options of Справочник properties. Oscar wants option texts unique
        within a group and codes unique overall, 1C guarantees neither: a repeated text
        gets " (2)", an ИдЗначения already used by another group is stored as
        ``<property Ид>#<ИдЗначения>``.
        """
        wanted = {}  # code -> (group id, text)
        for prop in references:
            group_id = group_ids[prop.id]
            for value_id, text in prop.options:
                if not value_id:
                    continue
                wanted.setdefault(value_id, []).append((prop.id, group_id, (text or value_id)[:255]))
        if not wanted:
            return
        existing = {
            row["code"]: row
            for row in AttributeOption.objects.filter(code__in=list(wanted)).values(
                "id", "code", "group_id", "option"
            )
        }
        options = {}  # final code -> (group id, text)
        for value_id, uses in wanted.items():
            for property_id, group_id, text in uses:
                row = existing.get(value_id)
                owner = row["group_id"] if row else None
                taken = options.get(value_id)
                if (owner is None or owner == group_id) and (taken is None or taken[0] == group_id):
                    options[value_id] = (group_id, text)
                else:
                    options[f"{property_id}#{value_id}"] = (group_id, text)
        # Existing texts of these groups, to keep (group, option) unique.
        groups = {group_id for group_id, _ in options.values()}
        used = {}
        for row in AttributeOption.objects.filter(group_id__in=groups).values("code", "group_id", "option"):
            if row["code"] not in options:
                used.setdefault(row["group_id"], set()).add(row["option"])
        final = []
        renamed = []
        current = {
            row["code"]: row
            for row in AttributeOption.objects.filter(code__in=list(options)).values(
                "id", "code", "option", "group_id"
            )
        }
        for code, (group_id, text) in options.items():
            taken = used.setdefault(group_id, set())
            unique_text, n = text, 1
            while unique_text in taken:
                n += 1
                suffix = f" ({n})"
                unique_text = f"{text[: 255 - len(suffix)]}{suffix}"
            taken.add(unique_text)
            row = current.get(code)
            if row is not None and (row["option"] != unique_text or row["group_id"] != group_id):
                renamed.append(row["id"])
            final.append(AttributeOption(code=code, group_id=group_id, option=unique_text))
        if renamed:
            # Park renamed options on unique texts first: two options may swap texts, and
            # (group, option) is checked row by row.
            parked = [AttributeOption(id=pk, option=f"~{pk}~") for pk in renamed]
            AttributeOption.objects.bulk_update(parked, ["option"], batch_size=500)
        AttributeOption.objects.bulk_create(
            final, update_conflicts=True, unique_fields=["code"], update_fields=["group", "option"]
        )

    # -- units (ЕдиницаИзмерения) ---------------------------------------------------------

    def write_units(self, units):
        """Keep 1C units by Ид and by Код, so a reference like ``2009`` shows as "шт"."""
        rows = {}
        for unit in units:
            for key in (unit.id, unit.code):
                if key:
                    rows[key[:64]] = Unit(
                        code=key[:64], name=(unit.name or "")[:64], full_name=(unit.full_name or "")[:255]
                    )
        if not rows:
            return
        Unit.objects.bulk_create(
            list(rows.values()),
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "full_name"],
        )
        if self.units is not None:
            self.units.update(rows)
        self._fingerprint = None

    def _known_units(self):
        """The shop's units by code, read at the first need."""
        if self.units is None:
            self.units = {unit.code: unit for unit in Unit.objects.all()}
        return self.units

    def unit_text(self, code, name):
        """What the ``unit`` attribute shows: the short name, else the known unit's, else the code."""
        if name:
            return name
        if not code:
            return ""
        unit = self._known_units().get(code)
        if unit is not None:
            return unit.name or unit.full_name or code
        return code

    # -- characteristics -----------------------------------------------------------------

    def characteristic_ids(self, names):
        """Attribute ids for characteristic names, creating missing ``c_`` text attributes."""
        wanted = {}
        for name in names:
            if name:
                wanted.setdefault(characteristic_attribute_code(name), name)
        missing = [code for code in wanted if code not in self.by_code]
        if missing:
            product_class = self.ctx.product_class
            ProductAttribute.objects.bulk_create(
                [
                    ProductAttribute(
                        product_class=product_class,
                        code=code,
                        name=wanted[code][:128],
                        type=ProductAttribute.TEXT,
                    )
                    for code in missing
                ],
                ignore_conflicts=True,
            )
            for row in ProductAttribute.objects.filter(product_class=product_class, code__in=missing).values(
                "id", "code", "type", "option_group_id"
            ):
                self.by_code[row["code"]] = AttributeInfo(
                    row["id"], row["code"], row["type"], row["option_group_id"]
                )
            self._fingerprint = None
        return {name: self.by_code[characteristic_attribute_code(name)].id for name in names if name}

    # -- values --------------------------------------------------------------------------

    def text_value(self, product_id, code, text):
        """A value row for a fixed text attribute, or None for an empty text."""
        if not text:
            return None
        return value_row(product_id, self.by_code[code].id, value_text=text)

    def property_values(self, product_id, pairs, *, owner):
        """
        Value rows for ``(property Ид, value)`` pairs. A property the classifier never
        described, or a value that does not fit its type, gives a warning (once per
        property), never an error: the rest of the product still lands.
        """
        rows = {}
        for property_id, raw in pairs:
            value = (raw or "").strip()
            if not property_id or not value:
                continue
            info = self.by_code.get(property_attribute_code(property_id))
            if info is None:
                self.warn_once(
                    ("property", property_id),
                    f"{owner}: свойство {property_id} не описано в классификаторе — значения пропущены",
                )
                continue
            row = rows.get(info.id)
            if row is not None:
                # Several values of one property: texts are joined, others keep the first.
                if info.type == ProductAttribute.TEXT and value not in row["value_text"].split(", "):
                    row["value_text"] = f"{row['value_text']}, {value}"
                continue
            row = value_row(product_id, info.id)
            if info.type == ProductAttribute.OPTION:
                option_id = self.options_by_key.get(info.option_group_id, {}).get(
                    value
                ) or self.options_by_text.get(info.option_group_id, {}).get(value.casefold())
                if option_id is None:
                    self.warn_once(
                        ("option", property_id, value),
                        f"{owner}: значение {value} свойства {property_id} нет в справочнике — пропущено",
                    )
                    continue
                row["value_option_id"] = option_id
            elif info.type == ProductAttribute.FLOAT:
                number = parse_number(value)
                if number is None:
                    self.warn_once(
                        ("number", property_id),
                        f"{owner}: значение «{value}» свойства {property_id} не число — пропущено",
                    )
                    continue
                row["value_float"] = number
            elif info.type == ProductAttribute.BOOLEAN:
                word = value.casefold()
                if word not in TRUE_WORDS and word not in FALSE_WORDS:
                    self.warn_once(
                        ("boolean", property_id),
                        f"{owner}: значение «{value}» свойства {property_id} не булево — пропущено",
                    )
                    continue
                row["value_boolean"] = word in TRUE_WORDS
            else:
                row["value_text"] = value
            rows[info.id] = row
        return list(rows.values())


def value_row(product_id, attribute_id, **values):
    """A ProductAttributeValue row for :func:`write_values` (every value column set)."""
    row = {
        "product_id": product_id,
        "attribute_id": attribute_id,
        "value_text": None,
        "value_float": None,
        "value_boolean": None,
        "value_option_id": None,
    }
    row.update(values)
    return row


def option_key(group_code, option_code):
    """The ИдЗначения an option stands for (codes may be ``<property Ид>#<ИдЗначения>``)."""
    if not option_code:
        return ""
    prefix = f"{group_code}#"
    return option_code[len(prefix) :] if group_code and option_code.startswith(prefix) else option_code


def write_values(rows, managed):
    """
    Make the products' 1C-managed attribute values exactly ``rows``.

    ``managed`` maps product id -> the attribute ids this write is responsible for on
    that product; values of those attributes that ``rows`` does not hold are deleted,
    values of other attributes are left alone. Returns the ids of the products whose
    values changed.
    """
    if not managed:
        return set()
    wanted = {}
    for row in rows:
        wanted[(row["product_id"], row["attribute_id"])] = row
    attribute_ids = set().union(*managed.values())
    stale, changed, present = [], set(), {}
    columns = ("value_text", "value_float", "value_boolean", "value_option_id")
    # Filtered by product only: with the attribute ids too PostgreSQL picks the attribute
    # index and scans every value of those attributes, batch after batch.
    for pk, product_id, attribute_id, *values in (
        ProductAttributeValue.objects.order_by()
        .filter(product_id__in_array=list(managed))
        .values_list("id", "product_id", "attribute_id", *columns)
    ):
        key = (product_id, attribute_id)
        present[key] = pk
        if attribute_id not in attribute_ids:
            continue
        row = wanted.get(key)
        if row is None:
            if attribute_id in managed.get(product_id, ()):
                stale.append(pk)
                changed.add(product_id)
        elif [row["value_text"], row["value_float"], row["value_boolean"], row["value_option_id"]] == values:
            del wanted[key]  # unchanged: nothing to write (one list compare: a million values a repeat)
    if stale:
        through = ProductAttributeValue.value_multi_option.through
        delete_where_in(through, "productattributevalue_id", stale)
        delete_where_in(ProductAttributeValue, "id", stale)
    new_rows, changed_rows = [], []
    for key, row in wanted.items():
        pk = present.get(key)
        if pk is None:
            new_rows.append(row)
        else:
            changed_rows.append({"id": pk, **row})
    update_rows(ProductAttributeValue, changed_rows, list(VALUE_FIELDS))
    insert_new(ProductAttributeValue, new_rows, unique=["attribute", "product"], update=list(VALUE_FIELDS))
    changed.update(product_id for product_id, _ in wanted)
    return changed
