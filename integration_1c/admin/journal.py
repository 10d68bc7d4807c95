"""Admin: journal."""
