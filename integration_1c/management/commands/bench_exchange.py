"""
``manage.py bench_exchange``: how long a full 1C exchange takes, end to end, and how much
memory the site uses doing it.

It runs the production shape on this machine: the configured PostgreSQL (DATABASE_URL)
and Redis (REDIS_URL), a gunicorn web server with 2 workers and one Celery worker, and the
1C client emulator over real HTTP. For each size it empties the 1C catalogue, generates a
2.08 package (a quarter of the products with 2–4 variants, 3 warehouses, pictures), sends
it and reports seconds, products per second and the peak resident memory (VmHWM) of the
web and worker processes. Then a changes-only package of offers. Figures are printed,
never asserted: this is a measuring tool, not a test.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import models

from integration_1c.testing.generator import generate_exchange, generate_offer_changes
from integration_1c.testing.emulator import (
    DEFAULT_EXCHANGE_PATH,
    ExchangeError,
    HttpTransport,
    OneCClient,
    build_archive,
)

BENCH_USER = "bench-1c"
START_TIMEOUT = 90


class Command(BaseCommand):
    help = "Benchmark full 1C exchanges over HTTP against gunicorn + Celery on PostgreSQL/Redis."

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default="10000,100000", help="Comma-separated product counts.")
        parser.add_argument(
            "--changes", type=int, default=10_000, help="Offers in the changes-only package (0: skip)."
        )
        parser.add_argument("--schema", choices=("2.08", "3.1"), default="2.08")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-images", action="store_true")
        parser.add_argument("--timeout", type=int, default=3 * 3600, help="Seconds one exchange may take.")

    def handle(self, *args, **options):
        try:
            sizes = [int(size) for size in options["sizes"].split(",") if size.strip()]
        except ValueError as error:
            raise CommandError(f"--sizes must be numbers separated by commas: {error}") from error
        self._check_environment()
        self.stdout.write("Migrating…")
        call_command("migrate", interactive=False, verbosity=0)
        password = secrets.token_urlsafe(16)
        self._exchange_user(password)

        work = Path(tempfile.mkdtemp(prefix="bench-exchange-"))
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="shop.settings",
            # Uploads and pictures of the benchmark go to a scratch folder, removed at the end.
            EXCHANGE_ROOT=str(work / "exchange"),
            MEDIA_ROOT=str(work / "media"),
            PYTHONUNBUFFERED="1",
        )
        worker_name = f"bench-{os.getpid()}@%h"
        processes = {}
        rows = []
        try:
            processes["web"] = self._start(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "shop.wsgi:application",
                    "--workers",
                    str(options["web_workers"]),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--timeout",
                    "300",
                    "--log-level",
                    "warning",
                ],
                env,
                work,
            )
            processes["worker"] = self._start(
                "worker",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "shop",
                    "worker",
                    "--pool=solo",
                    "-c",
                    "1",
                    "-n",
                    worker_name,
                    "--loglevel=WARNING",
                ],
                env,
                work,
            )
            self._wait_for_web(url, processes, work)
            self._wait_for_worker(worker_name.replace("%h", socket.gethostname()), processes, work)
            self.stdout.write(f"gunicorn ({options['web_workers']} workers) on {url}, Celery worker ready.\n")

            last = None
            for size in sizes:
                rows.append(self._run_size(size, options, url, password, processes, work))
                last = size
            if options["changes"] and last:
                rows.append(self._run_changes(last, options, url, password, processes, work))
        except ExchangeError as error:
            self._show_logs(work)
            raise CommandError(f"exchange failed: {error}") from error
        finally:
            for process in processes.values():
                _stop(process)
            self._print_table(rows)
            shutil.rmtree(work, ignore_errors=True)

    # Setup ------------------------------------------------------------------------------------

    def _check_environment(self):
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise CommandError(
                f"bench_exchange measures the production shape: set DATABASE_URL to PostgreSQL (now {engine})."
            )
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                "bench_exchange needs a Celery broker: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)."
            )
        self._create_database()

    def _create_database(self):
        """Create the benchmark's database when it does not exist yet (a fresh machine has none)."""
        import psycopg
        from psycopg import sql

        db = settings.DATABASES["default"]
        params = {
            "dbname": "postgres",
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
        }
        with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
                self.stdout.write(f"Created database {db['NAME']}.")

    def _exchange_user(self, password):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Permission

        user, _ = get_user_model().objects.get_or_create(
            username=BENCH_USER, defaults={"email": "bench-1c@example.com", "is_staff": False}
        )
        user.set_password(password)
        user.is_active = True
        user.save()
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="integration_1c", codename="exchange_1c")
        )

    def _start(self, name, command, env, work):
        # The child keeps its own copy of the log's descriptor; ours can close at once.
        # Its own process group, so stopping it also stops the processes it forks.
        with open(work / f"{name}.log", "wb") as log:
            return subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_for_web(self, url, processes, work):
        deadline = time.monotonic() + START_TIMEOUT
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            self._check_alive(processes, work)
            try:
                opener.open(url + DEFAULT_EXCHANGE_PATH, timeout=5).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.5)
        self._show_logs(work)
        raise CommandError(f"gunicorn did not answer on {url} within {START_TIMEOUT} s")

    def _wait_for_worker(self, name, processes, work):
        from shop.celery import app

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive(processes, work)
            if app.control.ping(destination=[name], timeout=1.0):
                return
        self._show_logs(work)
        raise CommandError(f"the Celery worker {name} did not answer within {START_TIMEOUT} s")

    def _check_alive(self, processes, work):
        for name, process in processes.items():
            if process.poll() is not None:
                self._show_logs(work)
                raise CommandError(f"the {name} process exited with code {process.returncode}")

    def _show_logs(self, work):
        for log in sorted(Path(work).glob("*.log")):
            tail = log.read_bytes()[-4000:].decode("utf-8", "replace")
            if tail.strip():
                self.stderr.write(f"--- last lines of {log.name} ---\n{tail}")

    # Runs -------------------------------------------------------------------------------------

    def _client(self, url, password, options):
        return OneCClient(
            HttpTransport(url, timeout=600),
            BENCH_USER,
            password,
            version=options["schema"],
            poll_interval=0.5,
            timeout=options["timeout"],
        )

    def _run_size(self, size, options, url, password, processes, work):
        self.stdout.write(f"== {size:,} products ==")
        started = time.monotonic()
        purged = purge_onec_catalogue()
        self.stdout.write(
            f"  emptied the 1C catalogue ({purged:,} products) in {time.monotonic() - started:.1f} s"
        )

        folder = work / f"package-{size}"
        started = time.monotonic()
        exchange = generate_exchange(
            folder,
            products=size,
            schema=options["schema"],
            seed=options["seed"],
            variant_share=0.25,
            variants=(2, 4),
            warehouses=3,
            images=not options["no_images"],
        )
        archive = build_archive(folder, exchange.files, work / f"v8_{size}.zip")
        megabytes = sum(path.stat().st_size for path in exchange.files) / 2**20
        self.stdout.write(
            f"  generated {exchange.products:,} products / {exchange.offers:,} offers / "
            f"{len(exchange.images):,} pictures ({megabytes:,.0f} MB of XML, zip {archive.stat().st_size / 2**20:,.0f} MB)"
            f" in {time.monotonic() - started:.1f} s"
        )
        _reset_peaks(processes)
        result = self._client(url, password, options).exchange_catalog(exchange, archive=archive)
        peaks = _peaks(processes)
        shutil.rmtree(folder, ignore_errors=True)
        archive.unlink(missing_ok=True)
        in_db = _onec_products().count()
        self.stdout.write(
            f"  exchange: {result.seconds:.1f} s, {exchange.products / result.seconds:,.0f} products/s, "
            f"{result.progress_answers} progress answers, {in_db:,} 1C products (with variants) in the database"
        )
        return {
            "what": f"full {size:,}",
            "seconds": result.seconds,
            "rate": exchange.products / result.seconds,
            "web": peaks["web"],
            "worker": peaks["worker"],
        }

    def _run_changes(self, base_size, options, url, password, processes, work):
        count = options["changes"]
        self.stdout.write(
            f"== changes-only package: {count:,} offers of the {base_size:,}-product catalogue =="
        )
        folder = work / "changes"
        exchange = generate_offer_changes(
            folder,
            base_seed=options["seed"],
            offers=count,
            schema=options["schema"],
            products=base_size,
            variant_share=0.25,
            variants=(2, 4),
            warehouses=3,
            images=not options["no_images"],
        )
        _reset_peaks(processes)
        result = self._client(url, password, options).exchange_catalog(exchange)
        peaks = _peaks(processes)
        shutil.rmtree(folder, ignore_errors=True)
        self.stdout.write(f"  exchange: {result.seconds:.1f} s for {exchange.offers:,} offers")
        return {
            "what": f"changes {exchange.offers:,}",
            "seconds": result.seconds,
            "rate": exchange.offers / result.seconds,
            "web": peaks["web"],
            "worker": peaks["worker"],
            "unit": "offers/s",
        }

    def _print_table(self, rows):
        if not rows:
            return
        header = (
            f"{'exchange':<18}{'seconds':>10}{'per second':>18}{'web peak RSS':>16}{'worker peak RSS':>18}"
        )
        self.stdout.write("\n" + header + "\n" + "-" * len(header))
        for row in rows:
            rate = f"{row['rate']:,.0f} {row.get('unit', 'products/s')}"
            self.stdout.write(
                f"{row['what']:<18}{row['seconds']:>10.1f}{rate:>18}{_mb(row['web']):>16}{_mb(row['worker']):>18}"
            )
        self.stdout.write(
            "RSS: the largest VmHWM of one process (gunicorn master and workers; Celery worker and children),"
            " reset before each run where the kernel allows."
        )


# --------------------------------------------------------------------------------------
# Emptying the 1C catalogue quickly.
# --------------------------------------------------------------------------------------


def _onec_products():
    return apps.get_model("catalogue", "Product").objects.filter(code__isnull=False)


def purge_onec_catalogue():
    """
    Delete every product and category that came from 1C (they have a ``code``) with their
    stock records, prices, attribute values and images. Done with set-based SQL along the
    foreign keys (what ``on_delete`` asks for), not Django's collector, which would load
    hundreds of thousands of rows into memory first.
    """
    product_model = apps.get_model("catalogue", "Product")
    category_model = apps.get_model("catalogue", "Category")
    count = _onec_products().count()
    _purge(product_model.objects.filter(code__isnull=False))
    _purge(category_model.objects.filter(code__isnull=False))
    if category_model.objects.exists():
        category_model.objects.fix_tree()
    return count


def _purge(queryset, depth=0):
    if depth > 10 or not queryset.exists():
        return
    model = queryset.model
    pks = queryset.values("pk")
    for related_model in apps.get_models(include_auto_created=True):
        for relation in related_model._meta.concrete_fields:
            if not relation.is_relation or relation.remote_field is None or relation.many_to_many:
                continue
            target = relation.remote_field.model
            if not (isinstance(target, type) and issubclass(model, target)):
                continue
            related = related_model._base_manager.filter(**{f"{relation.name}__in": pks})
            on_delete = relation.remote_field.on_delete
            if on_delete is models.CASCADE:
                _purge(related, depth + 1)
            elif on_delete is models.SET_NULL:
                related.update(**{relation.name: None})
            elif on_delete is models.DO_NOTHING:
                continue
            elif related.exists():
                raise CommandError(
                    f"cannot empty the 1C catalogue: {related_model._meta.label}.{relation.name} protects "
                    f"{model._meta.label} rows"
                )
    queryset._raw_delete(queryset.db)


# --------------------------------------------------------------------------------------
# Processes and their memory.
# --------------------------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tree(pid):
    """``pid`` and all its descendants, from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _status_kb(pid, key):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _reset_peaks(processes):
    """Reset VmHWM ("5" to clear_refs) so each run reports its own peak."""
    for process in processes.values():
        for pid in _tree(process.pid):
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass


def _peaks(processes):
    return {
        name: max((_status_kb(pid, "VmHWM") for pid in _tree(process.pid)), default=0)
        for name, process in processes.items()
    }


def _mb(kilobytes):
    return f"{kilobytes / 1024:,.0f} MB" if kilobytes else "n/a"
