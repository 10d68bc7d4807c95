"""
``manage.py bench_exchange``: how long a 1C exchange takes, end to end, against what the
machine can do at the least, and how much memory the site uses doing it.

It runs the production shape on this machine: the configured PostgreSQL (DATABASE_URL)
and Redis (REDIS_URL), a gunicorn web server with 2 workers and one Celery worker, and the
1C client emulator over real HTTP. For each size it empties the 1C catalogue, generates a
2.08 package (a quarter of the products with 2–4 variants, 3 warehouses, pictures), sends
it, runs the write floor (``--floor``: ``shared/bench/floor_copy.py``, parse + COPY of the
same rows and a copy of the pictures) on the same files right after, and sends the same
package once more (1C repeats unchanged full exports). Then, on the largest catalogue,
changes-only packages of offers (``--changes``, e.g. 10,000 and 100). For every exchange it
prints seconds, the floor and the ratio, the slowest HTTP call, the peak resident memory
(VmHWM) of the web and worker processes and a timeline of the exchange's calls and files.
Before each measured step what the step before left in memory is written out
(:func:`_settle_disk`). Figures are printed, never asserted: the machine is shared and
noisy, so compare with the floor measured in the same run.
"""

import json
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
from django.db import DatabaseError, models

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
            "--changes",
            default="10000,100",
            help="Offers in each changes-only package sent to the largest catalogue, comma-separated (0: none).",
        )
        parser.add_argument(
            "--floor",
            default=str(Path(settings.BASE_DIR).parent / "shared" / "bench" / "floor_copy.py"),
            help="The write-floor script run on every generated full package ('' to skip).",
        )
        parser.add_argument("--no-repeat", action="store_true", help="Do not send each full package twice.")
        parser.add_argument("--schema", choices=("2.08", "3.1"), default="2.08")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-images", action="store_true")
        parser.add_argument("--timeout", type=int, default=3 * 3600, help="Seconds one exchange may take.")
        parser.add_argument(
            "--media",
            default=str(Path(settings.BASE_DIR) / "var" / "bench-media"),
            help="MEDIA_ROOT of the exchanges: emptied first and kept, so that the storefront benchmark "
            "(`make bench`) draws the cards of the catalogue left behind with their pictures.",
        )

    def handle(self, *args, **options):
        try:
            sizes = [int(size) for size in options["sizes"].split(",") if size.strip()]
            changes = [int(count) for count in str(options["changes"]).split(",") if int(count or 0) > 0]
        except ValueError as error:
            raise CommandError(f"--sizes and --changes must be numbers separated by commas: {error}") from error
        floor = options["floor"]
        if floor and not Path(floor).is_file():
            self.stderr.write(f"No floor script at {floor}: the floor is not measured.")
            floor = ""
        options["floor"] = floor
        self._check_environment()
        self.stdout.write("Migrating…")
        call_command("migrate", interactive=False, verbosity=0)
        password = secrets.token_urlsafe(16)
        self._exchange_user(password)

        work = Path(tempfile.mkdtemp(prefix="bench-exchange-"))
        media = Path(options["media"]).resolve()
        self._media = media  # emptied before each size (_set_aside)
        media.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="shop.settings",
            # Uploads go to a scratch folder, removed at the end; pictures stay in --media.
            EXCHANGE_ROOT=str(work / "exchange"),
            MEDIA_ROOT=str(media),
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
                rows.extend(self._run_size(size, options, url, password, processes, work))
                last = size
            if changes and last:
                self._settle(last, options, url, password, work)
                for seed, count in enumerate(changes, start=2):
                    rows.append(self._run_changes(last, count, seed, options, url, password, processes, work))
        except ExchangeError as error:
            self._show_logs(work)
            raise CommandError(f"exchange failed: {error}") from error
        finally:
            for process in processes.values():
                _stop(process)
            self._print_table(rows)
            shutil.rmtree(work, ignore_errors=True)
            # After every measurement: deleting many files slows the creation of the next
            # ones on some disks for a while (see _set_aside).
            _delete_set_aside(media)
            self.stdout.write(f"Pictures of the last catalogue kept in {media}.")

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

    def _create_database(self, name=None):
        """Create the benchmark's database when it does not exist yet (a fresh machine has none)."""
        import psycopg
        from psycopg import sql

        db = settings.DATABASES["default"]
        name = name or db["NAME"]
        params = {
            "dbname": "postgres",
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
        }
        with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                self.stdout.write(f"Created database {name}.")

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
            TimingTransport(HttpTransport(url, timeout=600)),
            BENCH_USER,
            password,
            version=options["schema"],
            poll_interval=0.1,  # 1C asks again at once after a progress answer
            timeout=options["timeout"],
        )

    def _exchange(self, exchange, options, url, password, processes, archive=None):
        """One exchange over HTTP: (result, peaks, slowest call as (seconds, what))."""
        client = self._client(url, password, options)
        _settle_disk()
        _reset_peaks(processes)
        before = _cpu(processes)
        result = client.exchange_catalog(exchange, archive=archive)
        result.cpu = _cpu_spent(before, _cpu(processes))
        result.worker = _worker_seconds()
        self.stdout.write(f"  timeline (s): {_timeline(client.transport.calls)}")
        self.stdout.write(f"  CPU (s): {_describe_cpu(result.cpu, result.seconds)}")
        return result, _peaks(processes), client.transport.slowest

    def _run_size(self, size, options, url, password, processes, work):
        self.stdout.write(f"== {size:,} products ==")
        started = time.monotonic()
        purged = purge_onec_catalogue()
        _set_aside(self._media)
        vacuumed = vacuum_database()
        vacuum_note = " and vacuumed the database" if vacuumed else ""
        self.stdout.write(
            f"  emptied the 1C catalogue ({purged:,} products){vacuum_note} in {time.monotonic() - started:.1f} s"
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
        rows = []
        try:
            result, peaks, slowest = self._exchange(exchange, options, url, password, processes, archive)
            in_db = _onec_products().count()
            self.stdout.write(
                f"  exchange: {result.seconds:.1f} s, {exchange.products / result.seconds:,.0f} products/s, "
                f"{result.progress_answers} progress answers, slowest call {slowest[0]:.2f} s ({slowest[1]}), "
                f"{in_db:,} 1C products (with variants) in the database; in the worker: {_describe(result.worker)}"
            )
            floor = self._floor(folder, options, work)
            rows.append(
                {
                    "what": f"full {size:,}",
                    "size": size,
                    "seconds": result.seconds,
                    "import": result.worker,
                    "cpu": result.cpu,
                    "floor": floor,
                    "rate": exchange.products / result.seconds,
                    "slowest": slowest,
                    "web": peaks["web"],
                    "worker": peaks["worker"],
                }
            )
            if not options["no_repeat"]:
                first = result.seconds
                result, peaks, slowest = self._exchange(exchange, options, url, password, processes, archive)
                self.stdout.write(
                    f"  the same package again: {result.seconds:.1f} s ({result.seconds / first:.0%} of the first), "
                    f"slowest call {slowest[0]:.2f} s ({slowest[1]}); in the worker: {_describe(result.worker)}"
                )
                rows.append(
                    {
                        "what": f"repeat {size:,}",
                        "size": size,
                        "seconds": result.seconds,
                        "import": result.worker,
                        "cpu": result.cpu,
                        "of_first": result.seconds / first,
                        "rate": exchange.products / result.seconds,
                        "slowest": slowest,
                        "web": peaks["web"],
                        "worker": peaks["worker"],
                    }
                )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            archive.unlink(missing_ok=True)
        return rows

    def _floor(self, folder, options, work):
        """``floor_copy.py`` on the package just sent: its JSON figures, or None."""
        if not options["floor"]:
            return None
        dsn = self._scratch_dsn("floor")
        _settle_disk()
        completed = subprocess.run(
            [sys.executable, options["floor"], str(folder), "--dsn", dsn, "--media", str(work / "floor-media")],
            capture_output=True,
            text=True,
        )
        try:
            figures = json.loads(completed.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            self.stderr.write(f"  the floor tool failed: {completed.stderr.strip()[-2000:]}")
            return None
        self.stdout.write(
            f"  floor (parse + COPY {figures['rows']:,} rows {figures['parse_copy_s']} s, "
            f"copy {figures['pictures']:,} pictures {figures['picture_copy_s']} s): {figures['total_s']} s"
        )
        return figures

    def _scratch_dsn(self, suffix):
        """A libpq URL for ``<bench database>_<suffix>``, created when missing."""
        db = settings.DATABASES["default"]
        name = f"{db['NAME']}_{suffix}"
        self._create_database(name)
        user = db.get("USER") or ""
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        credentials = f"{user}{password}@" if user else ""
        return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"

    def _settle(self, base_size, options, url, password, work):
        """
        A one-offer changes package, not counted: its ``mode=init`` hands the worker the
        previous (full) exchange folders to delete, which happens once after each full
        exchange, before the next import. The changes packages measured after it cost
        what they cost all day long, every 5–10 minutes.
        """
        folder = work / "settle"
        exchange = generate_offer_changes(
            folder,
            base_seed=options["seed"],
            offers=1,
            change_seed=1,
            schema=options["schema"],
            products=base_size,
            variant_share=0.25,
            variants=(2, 4),
            warehouses=3,
            images=not options["no_images"],
        )
        client = self._client(url, password, options)
        result = client.exchange_catalog(exchange)
        shutil.rmtree(folder, ignore_errors=True)
        self.stdout.write(
            f"== after the full exchanges: a one-offer package while the worker deletes their upload folders:"
            f" {result.seconds:.1f} s, slowest call {client.transport.slowest[0]:.2f} s =="
        )

    def _run_changes(self, base_size, count, change_seed, options, url, password, processes, work):
        self.stdout.write(
            f"== changes-only package: {count:,} offers of the {base_size:,}-product catalogue =="
        )
        folder = work / f"changes-{count}"
        exchange = generate_offer_changes(
            folder,
            base_seed=options["seed"],
            offers=count,
            change_seed=change_seed,
            schema=options["schema"],
            products=base_size,
            variant_share=0.25,
            variants=(2, 4),
            warehouses=3,
            images=not options["no_images"],
        )
        result, peaks, slowest = self._exchange(exchange, options, url, password, processes)
        shutil.rmtree(folder, ignore_errors=True)
        self.stdout.write(
            f"  exchange: {result.seconds:.2f} s for {exchange.offers:,} offers, "
            f"slowest call {slowest[0]:.2f} s ({slowest[1]}); in the worker: {_describe(result.worker)}"
        )
        return {
            "what": f"changes {exchange.offers:,}",
            "size": base_size,
            "seconds": result.seconds,
            "import": result.worker,
            "cpu": result.cpu,
            "rate": exchange.offers / result.seconds,
            "slowest": slowest,
            "web": peaks["web"],
            "worker": peaks["worker"],
            "unit": "offers/s",
        }

    def _print_table(self, rows):
        if not rows:
            return
        header = (
            f"{'exchange':<18}{'seconds':>9}{'import s':>10}{'CPU w/db s':>12}{'floor s':>9}{'x floor':>9}"
            f"{'per second':>19}{'slowest call':>14}{'web RSS':>10}{'worker RSS':>12}"
        )
        self.stdout.write("\n" + header + "\n" + "-" * len(header))
        for row in rows:
            rate = f"{row['rate']:,.0f} {row.get('unit', 'products/s')}"
            floor = row.get("floor")
            floor_s = f"{floor['total_s']:.1f}" if floor else "-"
            ratio = f"{row['seconds'] / floor['total_s']:.1f}" if floor and floor["total_s"] else "-"
            if "of_first" in row:
                ratio = f"{row['of_first']:.0%} 1st"
            cpu = row.get("cpu") or {}
            cpu_s = "/".join(f"{cpu[name]:.1f}" if name in cpu else "-" for name in ("worker", "database"))
            self.stdout.write(
                f"{row['what']:<18}{row['seconds']:>9.2f}{row['import'].get('import', 0):>10.2f}{cpu_s:>12}"
                f"{floor_s:>9}{ratio:>9}{rate:>19}"
                f"{row['slowest'][0]:>12.2f} s{_mb(row['web']):>10}{_mb(row['worker']):>12}"
            )
        fulls = [row for row in rows if row["what"].startswith("full")]
        if len(fulls) >= 2:
            small, big = fulls[0], fulls[-1]
            growth = ", ".join(
                f"{name} {(big[name] / small[name] - 1):+.0%}" for name in ("web", "worker") if small[name]
            )
            self.stdout.write(f"Peak RSS from {small['size']:,} to {big['size']:,} products: {growth}.")
        slowest = max(rows, key=lambda row: row["slowest"][0])
        self.stdout.write(
            f"Slowest exchange HTTP call: {slowest['slowest'][0]:.2f} s ({slowest['slowest'][1]}, {slowest['what']})."
        )
        self.stdout.write(
            "import s: the worker's time on the XML files (journal start to finish); seconds: the whole exchange"
            " over HTTP (logins, upload, unpacking, import, the polls).\n"
            "CPU w/db s: user and system seconds of the Celery worker (with its reading and picture processes)"
            " and of PostgreSQL during the exchange; each exchange's line above adds gunicorn and the emulated 1C.\n"
            "RSS: the largest VmHWM of one process (gunicorn master and workers; Celery worker and children),"
            " reset before each run where the kernel allows. Floor: shared/bench/floor_copy.py on the same files."
        )


class TimingTransport:
    """
    An emulator transport that remembers when each call started and how long it took:
    the slowest (1C gives up on a call that hangs) and the exchange's timeline
    (:func:`_timeline`).
    """

    def __init__(self, transport):
        self.transport = transport
        self.calls = []  # (wall-clock start, seconds, mode, filename)

    def request(self, method, params, **kwargs):
        started, wall = time.monotonic(), time.time()
        try:
            return self.transport.request(method, params, **kwargs)
        finally:
            seconds = time.monotonic() - started
            self.calls.append((wall, seconds, params.get("mode") or "", params.get("filename") or ""))

    @property
    def slowest(self):
        """``(seconds, "mode=… filename")`` of the slowest call so far."""
        if not self.calls:
            return (0.0, "")
        _, seconds, mode, filename = max(self.calls, key=lambda call: call[1])
        return (seconds, f"mode={mode} {filename}".rstrip())


def _timeline(calls):
    """
    Where an exchange's time went, in seconds from its first call: the logins, the
    upload, and for each file the worker's journal (queued, started, finished) beside
    the moment 1C was told it was done. The gaps between them are what the exchange
    spends outside the import.
    """
    if not calls:
        return ""
    origin = calls[0][0]
    parts = []
    logins = [call for call in calls if call[2] in ("checkauth", "init")]
    if logins:
        parts.append(f"logins {sum(call[1] for call in logins):.2f} s")
    uploads = [call for call in calls if call[2] == "file"]
    if uploads:
        parts.append(
            f"upload {uploads[0][0] - origin:.1f}–{uploads[-1][0] + uploads[-1][1] - origin:.1f}"
        )
    session = _latest_session()
    if session is not None:
        for exchange_file in session.files.exclude(kind="attachment").order_by("uploaded_at", "pk"):
            if exchange_file.started_at is None or exchange_file.finished_at is None:
                continue
            queued = exchange_file.uploaded_at.timestamp() - origin
            started = exchange_file.started_at.timestamp() - origin
            finished = exchange_file.finished_at.timestamp() - origin
            polls = [call for call in calls if call[2] == "import" and call[3] == exchange_file.name]
            told = f", answered {polls[-1][0] + polls[-1][1] - origin:.1f}" if polls else ""
            parts.append(
                f"{exchange_file.name} queued {queued:.1f} ran {started:.1f}–{finished:.1f}{told}"
            )
    end = calls[-1][0] + calls[-1][1] - origin
    parts.append(f"end {end:.1f}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------
# Emptying the 1C catalogue quickly.
# --------------------------------------------------------------------------------------


def _onec_products():
    return apps.get_model("catalogue", "Product").objects.filter(code__isnull=False)


def vacuum_database():
    """
    ``VACUUM ANALYZE`` after the purge, so that each size starts from a database without
    the dead rows of the earlier runs: where autovacuum is off (this machine's shared
    server) or lags, every run would otherwise be measured on the bloat of all before it
    (a 10,000-product catalogue's listing table reached 200 MB for 10,000 live rows).
    PostgreSQL only; returns whether it ran.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    if not connection.get_autocommit():
        return False  # inside a transaction (never in the bench): VACUUM cannot run there
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return True


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


def _settle_disk():
    """
    Write what the step before left in memory to disk before the next is timed:
    PostgreSQL's dirty pages (``CHECKPOINT``, when the benchmark's role may ask for one)
    and then the page cache's. The floor tool's 1.7 million rows and 118,000 pictures
    were otherwise still being written back during the repeat that followed it (its
    first call once took 1.44 s), and an exchange's own writes during the floor after it.
    In a shop, a repeat comes minutes or hours after the first exchange, when the
    database's checkpoints have long written it out.
    """
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass  # a role without the right (pg_checkpoint): the page cache only
    os.sync()


def _latest_session():
    """The benchmark user's latest exchange session (its files' journal), or None."""
    from integration_1c.models import ExchangeSession

    return ExchangeSession.objects.filter(user__username=BENCH_USER).order_by("-started_at").first()


def _worker_seconds():
    """Seconds the worker spent on the files of the latest exchange, by kind, from the journal."""
    session = _latest_session()
    spent = {}
    if session is None:
        return spent
    for exchange_file in session.files.filter(started_at__isnull=False, finished_at__isnull=False).exclude(
        kind="attachment"
    ):
        key = "unpack" if exchange_file.kind == "archive" else "import"
        seconds = (exchange_file.finished_at - exchange_file.started_at).total_seconds()
        spent[key] = spent.get(key, 0.0) + seconds
    return spent


def _describe(spent):
    return ", ".join(f"{key} {seconds:.2f} s" for key, seconds in sorted(spent.items())) or "nothing recorded"


# --------------------------------------------------------------------------------------
# Processes and their memory.
# --------------------------------------------------------------------------------------


def _set_aside(media):
    """
    Start the media folder empty, the pictures of earlier runs moved beside it, to be
    deleted after the last measurement (:func:`_delete_set_aside`). Each full exchange
    then places every picture of its catalogue (none is found already there from a
    smaller run of the same seed), and none follows a mass deletion: on this machine's
    disk (ext4 mounted with ``discard``) creating 11,800 files right after 118,000 were
    deleted took 19.6 s instead of 1.8–3.1 s, which measured the disk, not the import.
    """
    if media.exists():
        media.rename(media.parent / f".{media.name}.old-{time.time_ns()}")
    media.mkdir(parents=True)
    _forget_thumbnails()


def _delete_set_aside(media):
    for old in media.parent.glob(f".{media.name}.old-*"):
        shutil.rmtree(old, ignore_errors=True)


def _forget_thumbnails():
    """sorl-thumbnail's records of thumbnails made in the emptied media folder (they are gone with it)."""
    from sorl.thumbnail import default

    default.kvstore.clear()


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


def _stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command's name (state, ppid, …), or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _tree(pid):
    """``pid`` and all its descendants, from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name)
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
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


#: What the CPU figures add up, in the order they are printed.
CPU_PARTS = ("worker", "web", "database", "client")


def _cpu(processes):
    """
    CPU seconds used so far by each side of an exchange: the Celery worker with its
    children (the processes reading files and examining pictures count in its children's
    time once they are collected), gunicorn, PostgreSQL (the postmaster's tree, when it
    runs on this machine and /proc shows it; its exited backends count in its children's
    time) and this process, the emulated 1C. Two cores shared by these four: the sum
    over the exchange's seconds says how busy the machine was, and which side a change
    made cheaper, whatever the machine's speed that day.
    """
    spent = {name: _tree_cpu(process.pid) for name, process in processes.items()}
    postmaster = _postmaster_pid()
    spent["database"] = _tree_cpu(postmaster) if postmaster else None
    spent["client"] = time.process_time()
    return spent


def _cpu_spent(before, after):
    """What each side used between two :func:`_cpu` readings (a side one of them could not read is left out)."""
    return {
        name: after[name] - before[name]
        for name in CPU_PARTS
        if after.get(name) is not None and before.get(name) is not None
    }


def _describe_cpu(spent, seconds):
    parts = [f"{name} {spent[name]:.2f}" for name in CPU_PARTS if name in spent]
    if not parts:
        return "not measured"
    cores = os.cpu_count() or 1
    total = sum(spent.values())
    busy = total / (seconds * cores)
    return f"{', '.join(parts)}; {total:.2f} s in all, {busy:.0%} of {cores} cores over the exchange"


def _tree_cpu(pid):
    """User and system seconds of ``pid`` and its live descendants, with the children each collected."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in _tree(pid):
        fields = _stat_fields(member)
        if fields is not None:
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def _postmaster_pid():
    """PostgreSQL's postmaster on this machine (the parent of this connection's backend), or None."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    except (DatabaseError, TypeError):  # no backend to ask
        return None
    fields = _stat_fields(backend)  # None: another machine's server
    return int(fields[1]) if fields is not None else None


def _mb(kilobytes):
    return f"{kilobytes / 1024:,.0f} MB" if kilobytes else "n/a"
