"""
What the product page shows about buying a product: for each thing that can go into the
basket (the product itself, or each public variant of a parent) its price, its
availability and its stock per warehouse, in one structure the template and the JSON-LD
both read, so they cannot disagree.
"""

import re
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from . import selectors
from .prefetch import prefetch_for_strategy

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")

#: Attribute code prefix of variant characteristics (see the shared data model).
CHARACTERISTIC_PREFIX = "c_"


@dataclass
class SellableStock:
    """One product or variant as the shopper can buy it."""

    product: object
    info: object  # the strategy's PurchaseInfo
    warehouses: list = field(default_factory=list)
    #: With pickup points configured: the stock at each (``[PickupStock]``) and what a
    #: courier can bring from the other warehouses; without, ``[]`` and None (the page
    #: lists ``warehouses``).
    pickup: list = field(default_factory=list)
    courier: int | None = None
    article: str = ""
    barcode: str = ""
    #: The variant chosen when the page opens: the first that can be bought.
    preselected: bool = False

    @property
    def price(self):
        return self.info.price

    @property
    def availability(self):
        return self.info.availability

    @property
    def num_available(self):
        return getattr(self.availability, "num_available", 0) or 0

    @property
    def can_buy(self):
        return bool(self.price.exists and self.availability.is_available_to_buy)

    @property
    def title(self):
        """
        A variant's distinguishing text: its 1C characteristics (ХарактеристикиТовара,
        stored as ``c_…`` attributes), e.g. "Цвет: красный, Размер: M"; else its title.
        """
        if self.product.is_child:
            values = [
                value
                for value in self.product.attribute_values.all()
                if value.attribute.code.startswith(CHARACTERISTIC_PREFIX)
            ]
            if values:
                return ", ".join(f"{v.attribute.name}: {v.value_as_text}" for v in values)
        return self.product.get_title()

    @property
    def gtin13(self):
        return selectors.gtin13(self.barcode)


def sellable_stock(product, strategy):
    """
    ``[SellableStock]`` for ``product``: itself when standalone (or a variant), each
    public variant when a parent. A few queries, whatever the number of variants.
    """
    if product.is_parent:
        children = product.children.filter(is_public=True).order_by("pk")
        children = children.prefetch_related(
            Prefetch(
                "attribute_values",
                queryset=ProductAttributeValue.objects.select_related("attribute").order_by(
                    "attribute__name", "pk"
                ),
            )
        )
        items = list(prefetch_for_strategy(children, with_children=False))
        for child in items:
            child.parent = product
    else:
        items = list(prefetch_for_strategy(Product.objects.filter(pk=product.pk), with_children=False))
        if product.parent_id:
            for item in items:
                item.parent = product.parent
    identifiers = selectors.product_identifiers(items)
    warehouses = selectors.selling_warehouses()
    points = selectors.pickup_points()
    result = []
    for item in items:
        info = strategy.fetch_for_product(item)
        available = getattr(info.availability, "num_available", None)
        ids = identifiers.get(item.pk, {})
        stock = selectors.warehouse_stock(item, available=available, warehouses=warehouses)
        result.append(
            SellableStock(
                product=item,
                info=info,
                warehouses=stock,
                pickup=selectors.pickup_stock(item, points, available=available) if points else [],
                courier=selectors.courier_stock(stock, points, available=available) if points else None,
                article=ids.get("article", ""),
                barcode=ids.get("barcode", ""),
            )
        )
    first = next((s for s in result if s.can_buy), None)
    if first is not None:
        first.preselected = True
    return result


# --- Variant choice ----------------------------------------------------------------

#: Clothing sizes in the order a shopper reads them (XS before S before M…).
_SIZE_ORDER = ["XXXS", "XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "XXXXL"]
_SIZE_ALIASES = {"2XL": "XXL", "3XL": "XXXL", "4XL": "XXXXL", "2XS": "XXS", "3XS": "XXXS"}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)")


def natural_key(value):
    """
    The order of characteristic values a shopper expects, whatever order 1C sent them in:
    letter sizes by size (S M L XL XXL, also «2XL», «M/L» by its first size), numbers by
    value (39 40 41, «42,5», «44-46», «128 ГБ» < «1 ТБ» is not attempted), the rest
    alphabetically. Numbers and sizes come before words.
    """
    text = str(value).strip()
    upper = text.upper().replace("Х", "X")  # a Cyrillic «Х» typed in «ХL»
    head = re.split(r"[\s/\-–(]", upper, maxsplit=1)[0]
    head = _SIZE_ALIASES.get(head, head)
    if head in _SIZE_ORDER:
        return (0, _SIZE_ORDER.index(head), 0.0, upper.casefold())
    number = _NUMBER.match(text)
    if number:
        return (1, 0, float(number.group(1).replace(",", ".")), text.casefold())
    return (2, 0, 0.0, text.casefold())


@dataclass
class VariantOption:
    """One value of a characteristic as the selector draws it."""

    text: str
    #: A variant with this value and the values chosen above it can be bought (else the
    #: value is drawn disabled).
    available: bool = False
    #: The value of the variant chosen when the page opens.
    checked: bool = False


@dataclass
class VariantAxis:
    """One characteristic (Размер, Цвет…) with its values in natural order."""

    code: str
    name: str
    values: list
    options: list = field(default_factory=list)

    @property
    def chosen_text(self):
        return next((option.text for option in self.options if option.checked), "")


def _characteristics(product):
    """``[(code, name, text)]`` of a variant's 1C characteristics (``c_…`` attributes)."""
    return [
        (value.attribute.code, value.attribute.name, value.value_as_text)
        for value in product.attribute_values.all()
        if value.attribute.code.startswith(CHARACTERISTIC_PREFIX) and str(value.value_as_text).strip()
    ]


def buyable_values(sellables, axes, index, chosen):
    """
    The values of ``axes[index]`` that make a variant one can buy together with the values
    ``chosen`` (``{code: text}``) on the axes above it.

    The selectors narrow from the top down, as shoppers read them: the first (Размер)
    offers every value some variant in stock has, so the shopper can always change it;
    each following one (Цвет) only the values in stock with the choice above it. Judging
    every axis by all the others would lock a shopper into the combination the page
    opened with (S/Белый: no black in S, no L in white). ``static/shop/js/variants.js``
    applies the same rule in the browser.
    """
    above = [axis.code for axis in axes[:index]]
    code = axes[index].code
    return {
        s.choice.get(code)
        for s in sellables
        if s.can_buy
        and all(chosen.get(other) is None or s.choice.get(other) == chosen.get(other) for other in above)
    }


def variant_axes(sellables):
    """
    One axis per characteristic found on the variants, in the characteristics' name order,
    each with its distinct values in natural order; a value is available as
    ``buyable_values`` says for the variant the page opens with. Variants without
    characteristics (a 1C characteristic given only by name) make one axis «Вариант» of
    their titles.
    """
    axes = {}
    for sellable in sellables:
        characteristics = _characteristics(sellable.product)
        if not characteristics:
            characteristics = [("variant", _("Variant"), sellable.product.get_title())]
        sellable.choice = {code: str(text) for code, _name, text in characteristics}
        for code, name, text in characteristics:
            axis = axes.setdefault(code, VariantAxis(code=code, name=str(name), values=[]))
            if str(text) not in axis.values:
                axis.values.append(str(text))
    axes = sorted(axes.values(), key=lambda axis: axis.name.casefold())
    chosen = chosen_sellable(sellables, axes)
    chosen_values = chosen.choice if chosen is not None else {}
    for index, axis in enumerate(axes):
        axis.values.sort(key=natural_key)
        buyable = buyable_values(sellables, axes, index, chosen_values)
        axis.options = [
            VariantOption(text=text, available=text in buyable, checked=chosen_values.get(axis.code) == text)
            for text in axis.values
        ]
    return axes


def chosen_sellable(sellables, axes=None):
    """
    The variant the page opens with: the first that can be bought in the selectors'
    order (the smallest size in stock, then the first colour of that size), else the
    first variant.
    """
    if not sellables:
        return None
    if axes is None:
        axes = variant_axes(sellables)
    codes = [axis.code for axis in axes]
    ordered = sorted(sellables, key=lambda s: [natural_key(s.choice.get(code, "")) for code in codes])
    return next((s for s in ordered if s.can_buy), ordered[0])


def variant_data(sellables, axes):
    """
    What the product page's script needs to follow the shopper's choice without reloading:
    per variant its values on each axis, price, old price, discount, availability and
    stock per warehouse, all formatted as the page prints them. Embedded with
    ``json_script``.
    """
    from oscar.templatetags.currency_filters import currency

    from shop.templatetags.stock_tags import warehouse_amount
    from shop.templatetags.storefront_tags import discount_percent

    variants = []
    for sellable in sellables:
        price = sellable.price
        variants.append(
            {
                "id": sellable.product.pk,
                "values": sellable.choice,
                "price": currency(price.incl_tax, price.currency) if price.exists else "",
                "old_price": currency(price.old_price, price.currency)
                if price.exists and getattr(price, "has_old_price", False)
                else "",
                "discount": discount_percent(price) if price.exists else "",
                "can_buy": sellable.can_buy,
                "num_available": sellable.num_available,
                "availability": str(sellable.availability.message),
                "availability_code": sellable.availability.code,
                "warehouses": [
                    {"name": w.name, "quantity": w.quantity, "text": warehouse_amount(w.quantity)}
                    for w in sellable.warehouses
                ],
                "pickup": [
                    {"point": p.point.pk, "quantity": p.quantity, "text": warehouse_amount(p.quantity)}
                    for p in sellable.pickup
                ],
                "courier": (
                    {"quantity": sellable.courier, "text": warehouse_amount(sellable.courier)}
                    if sellable.courier is not None
                    else None
                ),
            }
        )
    return {"axes": [{"code": a.code, "name": a.name, "values": a.values} for a in axes], "variants": variants}


# --- Properties ----------------------------------------------------------------------

#: Attributes the page shows elsewhere or that say nothing to a shopper: the article and
#: barcode (shown under the title), 1C's full name, the unit of measure.
HIDDEN_ATTRIBUTE_CODES = {"article", "barcode", "full_name", "unit"}


@dataclass(frozen=True)
class Property:
    """One line of the product's properties table: «Гарантия» — «24 мес»."""

    name: str
    value: str


def format_number(number):
    """A 1C number as a shop prints it: 24.0 -> «24», 1.5 -> «1,5» (the locale's separator)."""
    from django.utils.formats import number_format

    if float(number).is_integer():
        return number_format(int(number), use_l10n=True)
    return number_format(round(float(number), 3), use_l10n=True).rstrip("0")


def split_unit(name):
    """«Гарантия, мес» -> («Гарантия», «мес»): 1C writes a number's unit after a comma."""
    head, sep, unit = str(name).rpartition(",")
    if sep and head.strip() and unit.strip() and len(unit.strip()) <= 12:
        return head.strip(), unit.strip()
    return str(name), ""


def attribute_property(value):
    """
    A ``Property`` for one attribute value, or None when it is unset as 1C sends "unset":
    an empty text, a number 0 (1C unloads an unfilled number as 0), no option chosen.
    """
    attribute = value.attribute
    raw = value.value
    if raw is None or raw == "":
        return None
    name = attribute.name
    if attribute.type in (attribute.FLOAT, attribute.INTEGER):
        if float(raw) == 0:
            return None
        label, unit = split_unit(name)
        text = format_number(raw)
        return Property(label, f"{text}\u00a0{unit}" if unit else text)
    if attribute.type == attribute.BOOLEAN:
        return Property(name, str(_("Yes") if raw else _("No")))
    if attribute.type == attribute.MULTI_OPTION:
        texts = [str(option) for option in raw.all()] if hasattr(raw, "all") else [str(o) for o in raw]
        return Property(name, ", ".join(texts)) if texts else None
    text = str(value.value_as_text).strip()
    return Property(name, text) if text else None


def product_properties(product):
    """
    The product's properties as 1C means them, in the attributes' order: unset values and
    the attributes listed in ``HIDDEN_ATTRIBUTE_CODES`` left out, numbers without a
    trailing «,0» and with the unit from the property's name («24 мес»). A variant also
    shows its parent's properties and its own characteristics.
    """
    values = list(product.get_attribute_values().select_related("attribute"))
    result = []
    for value in values:
        if value.attribute.code in HIDDEN_ATTRIBUTE_CODES:
            continue
        if value.attribute.code == "full_name" or str(value.value) == product.get_title():
            continue
        prop = attribute_property(value)
        if prop is not None:
            result.append(prop)
    return result
