"""Django admin of the 1C exchange: one module per area (journal, orders, prices)."""

from . import journal, orders, prices  # noqa: F401
