"""Signal receivers of the 1C exchange (wired in apps.py)."""
