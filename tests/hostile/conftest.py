"""
The hostile-input and fault suite (``make hostile``).

Every test here is one case: something a bad day in production or an attacker does to
the exchange. A case passes when every answer 1C got was clean (text ``success`` /
``progress`` / ``failure`` with a reason, never an HTML page or a driver's message); the
:class:`Case` fixture also fingerprints the catalogue tables around the hostile part and
records whether they changed. The summary line is computed from those results.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import REPO_DIR

#: The tables a shopper sees: a hostile case must leave them exactly as they were.
CATALOGUE_TABLES = [
    "catalogue_product",
    "catalogue_category",
    "catalogue_productimage",
    "catalogue_productattributevalue",
    "partner_stockrecord",
    "integration_1c_productprice",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/hostile/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.hostile)


def catalogue_fingerprint():
    """One md5 per catalogue table, of every row (the tables are small in tests)."""
    fingerprint = {}
    with connection.cursor() as cursor:
        for table in CATALOGUE_TABLES:
            cursor.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t")
            fingerprint[table] = cursor.fetchone()
    return fingerprint


class Case:
    """What one hostile case did to the catalogue."""

    def __init__(self, node):
        self.node = node
        self.changed = False

    @contextmanager
    def unchanged(self):
        """The hostile part of a case: the catalogue must be the same after it."""
        before = catalogue_fingerprint()
        yield
        after = catalogue_fingerprint()
        changed = [table for table in CATALOGUE_TABLES if before[table] != after[table]]
        if changed:
            self.changed = True
            self.node.user_properties.append(("catalogue_changed", True))
        assert not changed, f"the hostile input changed {changed}"


@pytest.fixture
def case(request):
    return Case(request.node)


_results = []


def pytest_runtest_logreport(report):
    if "tests/hostile/" not in report.nodeid.replace(os.sep, "/"):
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        changed = any(key == "catalogue_changed" for key, _value in report.user_properties)
        _results.append((report.nodeid, report.passed, report.skipped, changed))


def pytest_terminal_summary(terminalreporter):
    if not _results:
        return
    ran = [result for result in _results if not result[2]]
    clean = sum(1 for _nodeid, passed, _skipped, _changed in ran if passed)
    changed = sum(1 for *_rest, changed in ran if changed)
    terminalreporter.write_line(f"{len(ran)} cases, {clean} answered cleanly, {changed} changed the catalogue")


# --- processes of production: a Celery worker, a web server -------------------------


def process_env(settings, **extra):
    """The environment of a worker or web process on this test's database and storage."""
    name = connection.settings_dict["NAME"]
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{connection.settings_dict['USER'] or 'postgres'}@"
        f"{connection.settings_dict['HOST'] or '127.0.0.1'}:{connection.settings_dict['PORT'] or 5432}/{name}",
        EXCHANGE_ROOT=settings.STORAGES["exchange"]["OPTIONS"]["location"],
        MEDIA_ROOT=settings.MEDIA_ROOT,
        DEBUG="false",
        SECRET_KEY="hostile-tests",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="INFO",
        CONN_MAX_AGE="0",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Process:
    """A process of its own session (its children die with it on kill -9 of the group)."""

    def __init__(self, args, env, log_path):
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            args, cwd=REPO_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output():
                return
            if self.popen.poll() is not None:
                pytest.fail(f"process ended ({self.popen.returncode}):\n{self.output()[-3000:]}")
            time.sleep(0.1)
        pytest.fail(f"{needle!r} not seen in {timeout} s:\n{self.output()[-3000:]}")

    def kill(self):
        """kill -9 of the whole process group: as an out-of-memory kill or a lost host."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def start_worker(settings, tmp_path, transactional_db):
    """Start ``celery -A shop worker`` (prefork, one child) on this test's database and Redis."""
    started = []

    def start(**env):
        log = tmp_path / f"worker-{len(started)}.log"
        worker = Process(
            [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool=prefork", "--concurrency=1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
             "-n", f"hostile{len(started)}@%h"],
            process_env(settings, **env),
            log,
        )  # fmt: skip
        started.append(worker)
        worker.wait_for("ready.")
        return worker

    yield start
    for worker in started:
        worker.stop()


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def start_web(settings, tmp_path):
    """Start gunicorn (the production web server) with this environment; yields its base URL."""
    started = []

    def start(**env):
        port = free_port()
        web = Process(
            [sys.executable, "-m", "gunicorn", "shop.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "2", "--timeout", "60"],
            process_env(settings, **env),
            tmp_path / f"web-{len(started)}.log",
        )  # fmt: skip
        started.append(web)
        web.wait_for("Booting worker")
        deadline = time.monotonic() + 60
        import urllib.request

        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/1c/exchange?type=catalog&mode=nothing", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        web.url = f"http://127.0.0.1:{port}"
        return web

    yield start
    for web in started:
        web.stop()


@pytest.fixture
def purged_queue():
    """The Redis queue of this test run, empty (a killed worker may have left messages)."""
    from shop.celery import app

    app.control.purge()
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        for key in ("unacked", "unacked_index", "unacked_mutex"):
            client.delete(key)
    yield
    app.control.purge()
