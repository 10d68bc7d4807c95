"""
The embedded default (SQLite, no full-text search of its own) behaves as PostgreSQL
does: the behaviour tests run again in a subprocess on an SQLite database, where the
listing rows carry snowballstemmer's Russian stems instead of a ``tsvector``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO_DIR = Path(__file__).resolve().parents[2]
BEHAVIOUR = "tests/search/test_search_behaviour.py"


@pytest.mark.skipif(connection.vendor == "sqlite", reason="already running on SQLite")
def test_search_and_filters_behave_the_same_on_sqlite(tmp_path):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        REDIS_URL="",
        DEBUG="true",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db", "--tb=short", BEHAVIOUR],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    # On a failure, its traceback (from pytest's FAILURES section) rather than the output's tail.
    failures = result.stdout.find("= FAILURES =")
    report = result.stdout[failures : failures + 8000] if failures >= 0 else result.stdout[-6000:]
    assert result.returncode == 0, report + result.stderr[-3000:]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary, summary


def test_stems_read_word_forms_alike():
    from shop.apps.search.indexing import stem, stems

    assert stem("дрели") == stem("дрель") == stem("Дрелью")
    assert stem("лампы") == stem("лампа")
    assert stem("куртки") == stem("Куртка")
    assert stem("шуруповёрт") == stem("шуруповерт")
    assert stems("Дрель ударная Bosch") == f" {stem('дрель')} {stem('ударная')} {stem('bosch')} "
