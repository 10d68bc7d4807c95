"""
The filters of a listing page as they live in its URL, and what the filter panel shows.

A filtered page is a plain GET URL that a shopper can bookmark or send:

* ``price_min``, ``price_max`` — the selling price range;
* ``in_stock=1`` — only what can be bought now;
* ``wh=<partner id>`` (repeated) — in stock at one of these warehouses / pickup points;
* ``f<attribute id>=<value>`` (repeated) — a reference property or characteristic value
  (values of one attribute are alternatives, different attributes must all hold);
* ``n<attribute id>_min``, ``n<attribute id>_max`` — a numeric property's range.

:meth:`ListingFilters.querystring` writes them back in one canonical order, which is
what the page's ``<link rel="canonical">`` and the pagination links use.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

_VALUE_PARAM = re.compile(r"^f(\d+)$")
_RANGE_PARAM = re.compile(r"^n(\d+)_(min|max)$")
#: At most this many values per filter are read from a URL (hostile URLs stay cheap).
MAX_VALUES = 50


def _decimal(text):
    try:
        value = Decimal((text or "").replace(",", ".").replace(" ", "").replace("\xa0", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _float(text):
    try:
        value = float((text or "").replace(",", ".").replace(" ", "").replace("\xa0", ""))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


@dataclass
class ListingFilters:
    """What a shopper chose in the filter panel (all optional)."""

    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock: bool = False
    warehouses: list = field(default_factory=list)
    #: attribute id -> chosen values
    values: dict = field(default_factory=dict)
    #: attribute id -> (min or None, max or None)
    ranges: dict = field(default_factory=dict)

    @classmethod
    def from_querydict(cls, params):
        filters = cls(
            price_min=_decimal(params.get("price_min")),
            price_max=_decimal(params.get("price_max")),
            in_stock=params.get("in_stock") in ("1", "on", "true"),
        )
        filters.warehouses = sorted(
            {int(value) for value in params.getlist("wh")[:MAX_VALUES] if value.isdigit()}
        )
        for name in params:
            match = _VALUE_PARAM.match(name)
            if match:
                chosen = sorted({value.strip()[:255] for value in params.getlist(name)[:MAX_VALUES] if value.strip()})
                if chosen:
                    filters.values[int(match.group(1))] = chosen
                continue
            match = _RANGE_PARAM.match(name)
            if match:
                number = _float(params.get(name))
                if number is not None:
                    low, high = filters.ranges.get(int(match.group(1)), (None, None))
                    if match.group(2) == "min":
                        low = number
                    else:
                        high = number
                    filters.ranges[int(match.group(1))] = (low, high)
        return filters

    @property
    def active(self):
        """True when anything narrows the listing."""
        return bool(
            self.price_min is not None
            or self.price_max is not None
            or self.in_stock
            or self.warehouses
            or self.values
            or self.ranges
        )

    @property
    def narrows_rows(self):
        """
        True when the filters keep a part of the rows that a sort index cannot walk to:
        anything but «in stock» (the sort indexes begin with it, and most of a catalogue is).
        """
        return self.active and self != type(self)(in_stock=True)

    def params(self):
        """The filters as ``(name, value)`` pairs in canonical order."""
        pairs = []
        if self.price_min is not None:
            pairs.append(("price_min", _plain(self.price_min)))
        if self.price_max is not None:
            pairs.append(("price_max", _plain(self.price_max)))
        if self.in_stock:
            pairs.append(("in_stock", "1"))
        pairs += [("wh", str(pk)) for pk in self.warehouses]
        for attribute_id in sorted(self.values):
            pairs += [(f"f{attribute_id}", value) for value in self.values[attribute_id]]
        for attribute_id in sorted(self.ranges):
            low, high = self.ranges[attribute_id]
            if low is not None:
                pairs.append((f"n{attribute_id}_min", _plain(low)))
            if high is not None:
                pairs.append((f"n{attribute_id}_max", _plain(high)))
        return pairs

    def querystring(self, **extra):
        """The canonical query string of these filters plus ``extra`` (``q``, ``sort_by``; None dropped)."""
        pairs = [(name, value) for name, value in extra.items() if value not in (None, "")]
        return urlencode(pairs + self.params())


def _plain(number):
    """12.50 -> "12.5", 100.0 -> "100": numbers as a shopper would type them in a URL."""
    if isinstance(number, Decimal):
        text = format(number.normalize(), "f")
    else:
        text = repr(float(number))
        if text.endswith(".0"):
            text = text[:-2]
    return text


@dataclass
class FacetValue:
    value: str
    count: int
    selected: bool
    #: the input's name in the form (``f12``, ``wh``) and its value
    param: str = ""
    param_value: str = ""


@dataclass
class Facet:
    """One block of the filter panel: checkboxes with counts, or a number range."""

    key: int
    name: str
    kind: str  # "values" | "range"
    values: list = field(default_factory=list)
    param: str = ""
    low: float | None = None
    high: float | None = None
    chosen_low: float | None = None
    chosen_high: float | None = None

    @property
    def selected_count(self):
        return sum(1 for value in self.values if value.selected)
