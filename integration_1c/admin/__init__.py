"""Django admin of the 1C exchange: one module per area (journal, orders, prices, settings)."""

from . import journal, orders, prices, settings  # noqa: F401
