"""
A list column for the listing rows, on every database the shop runs on.

On PostgreSQL it is a native array (``integer[]`` or ``text[]``) with a GIN index, so
"in one of these categories" and "has one of these values" are index lookups (``&&``)
and a page's filter counts are one ``unnest`` over the rows it shows. Django's own
``ArrayField`` exists only there; the embedded SQLite default stores the same list as
JSON text and reads it with ``json_each``, so one code path serves both.
"""

import json

from django.db import models
from django.db.models import Lookup

INTEGER, TEXT = "integer", "text"


class ListField(models.Field):
    """A list of integers or strings (see the module docstring for how it is stored)."""

    description = "A list of integers or strings"

    def __init__(self, *args, item_type=TEXT, **kwargs):
        if item_type not in (INTEGER, TEXT):
            raise ValueError(f"item_type must be {INTEGER!r} or {TEXT!r}")
        self.item_type = item_type
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["item_type"] = self.item_type
        if kwargs.get("default") is list:
            del kwargs["default"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        return name, path, args, kwargs

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return f"{self.item_type}[]"
        return "text"

    def array_type(self):
        """The PostgreSQL type of the column, for casts in SQL (``%s::integer[]``)."""
        return f"{self.item_type}[]"

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        items = [int(item) if self.item_type == INTEGER else str(item) for item in value]
        if connection.vendor == "postgresql":
            return items
        return json.dumps(items, ensure_ascii=False)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return []
        if isinstance(value, str):
            return json.loads(value)
        return list(value)

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return list(value or [])


@ListField.register_lookup
class Overlaps(Lookup):
    """``field__overlaps=[a, b]``: the list holds at least one of the given items."""

    lookup_name = "overlaps"
    prepare_rhs = False

    def process_rhs(self, compiler, connection):
        items = [int(item) if self.lhs.output_field.item_type == INTEGER else str(item) for item in self.rhs]
        return "%s", [items]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} && %s::{self.lhs.output_field.array_type()}", lhs_params + rhs_params

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        (items,) = self.process_rhs(compiler, connection)[1]
        if not items:
            return "1 = 0", []
        placeholders = ", ".join(["%s"] * len(items))
        return (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value IN ({placeholders}))",
            lhs_params + items,
        )
