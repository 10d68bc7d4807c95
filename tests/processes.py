"""The processes a test's process forked (helper processes of the import must end with it)."""

import os
from pathlib import Path


def child_pids(pid=None):
    """
    The processes ``pid`` (this one) forked that still run or wait to be collected, from
    every thread's ``/proc/<pid>/task/<tid>/children``. A thread that ends while they are
    read (a reader thread finishing) has nothing left to list.
    """
    found = []
    for task in Path(f"/proc/{pid or os.getpid()}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found
