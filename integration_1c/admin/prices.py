"""Admin: prices."""
