"""The worker and import_1c_folder lower their CPU priority so that shoppers' pages stay fast."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]

PROBE = """
import os, django
django.setup()
from shop.celery import yield_cpu_to_shoppers
before = os.nice(0)
yield_cpu_to_shoppers()
print(os.nice(0) - before)
"""


def run_probe(**env):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "shop.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.strip().splitlines()[-1])


def test_the_worker_yields_the_cpu_by_the_configured_niceness():
    if os.nice(0) > 19 - 10:
        pytest.skip("this process already runs at the lowest priority")
    assert run_probe(ONEC_IMPORT_NICENESS="10") == 10
    assert run_probe(ONEC_IMPORT_NICENESS="0") == 0
