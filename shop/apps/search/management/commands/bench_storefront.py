"""
``manage.py bench_storefront``: how long the storefront's listing pages take on the
configured database (``make bench``: the 100,000-product catalogue that
``bench_exchange`` left in PostgreSQL), idle and while a full 1C import runs.

Each scenario sends ``--requests`` GETs through Django's full request cycle
(middleware, view, templates) in this process and records the server time and the
number of SQL queries of each:

* category — all products and the category pages, every category that lists products
  in turn, with the sorts and first pages a shopper uses;
* search — words of real titles in other forms («дрели» for «Дрель»), articles, near misses;
* filtered — a category narrowed by two properties (its most common values) and a price;
* suggest — the search box's suggestions;
* product — product pages, their related products' cards included.

Then the same while ``import_1c_folder`` applies a full catalogue of ``--import-products``
products in another process (generated once into ``--import-folder``). Figures are
printed, never asserted.
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlencode

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from oscar.core.loading import get_model

from integration_1c.management.commands.bench_exchange import vacuum_database
from shop.apps.search import indexing, selectors
from shop.apps.search.filters import ListingFilters
from shop.apps.search.models import FilterSetting, ProductDocument, ProductListing
from shop.memory import freeze_after_first_request

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")

SORTS = [None, None, "price-asc", "newest", "price-desc", "popular"]


class Command(BaseCommand):
    help = "Measure category, search and filtered listing pages (p50/p95 server time, queries), idle and during a 1C import."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=200, help="Requests per scenario (default 200).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--import-products",
            type=int,
            default=100_000,
            help="Products of the full catalogue imported meanwhile for the second round (0: skip it).",
        )
        parser.add_argument(
            "--import-folder",
            default="",
            help="A 1C exchange folder to import meanwhile (generated when missing or empty).",
        )

    def handle(self, *args, **options):
        # Pages render static URLs; the benchmark needs no collected (hashed) static files.
        storages = dict(settings.STORAGES)
        storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        with override_settings(STORAGES=storages):
            self._bench(options)

    def _bench(self, options):
        rng = random.Random(options["seed"])
        listed = ProductListing.objects.count()
        if not listed:
            self.stdout.write("No listing rows: building them first (rebuild_search_index)…")
            indexing.rebuild_all()
            listed = ProductListing.objects.count()
        self.stdout.write(
            f"Storefront benchmark on {connection.vendor} ({settings.DATABASES['default'].get('NAME')}): "
            f"{listed:,} listed products, {options['requests']} requests per scenario."
        )
        # What autovacuum would have done after the exchange benchmark's imports: where it is
        # off (this machine's server) or lags, pages were measured on the dead rows of the
        # import's own updates and on statistics from before it (the planner then reads a
        # category's 20,000 rows twice as slowly).
        started = time.monotonic()
        if vacuum_database():
            self.stdout.write(f"Vacuumed and analysed the database first ({time.monotonic() - started:.0f} s).")
        plan = self._plan(rng, options["requests"])
        client = Client(HTTP_HOST=(settings.ALLOWED_HOSTS or ["127.0.0.1"])[0].lstrip(".") or "127.0.0.1")
        if settings.GC_FREEZE:  # as shop/wsgi.py sets up every web process
            freeze_after_first_request()
        self._warm_up(client, plan)

        idle = self._round(client, plan)
        self._print("idle", idle)

        if options["import_products"]:
            folder = self._import_folder(options)
            process = self._start_import(folder)
            try:
                # Let the import get past reading its first records before measuring.
                time.sleep(10)
                busy = self._round(client, plan, process=process)
                finished = process.poll() is not None
            finally:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=60)
            self._print("during a full import", busy, baseline=idle)
            if finished:
                self.stdout.write(self.style.WARNING("  (the import ended before the last request)"))

    # -- what to request ---------------------------------------------------------------------

    def _plan(self, rng, count):
        categories = list(
            Category.objects.browsable()
            .filter(
                pk__in=selectors.listed_category_ids()
            )
            .order_by("path")
        )
        roots = list(selectors.top_categories())
        every_category = [None] + roots + categories  # None: all products («Все товары»)
        # Drawn with the seed (not the database's random order): the same catalogue and
        # seed give the same requests, so that two runs compare like with like.
        listed = list(ProductListing.objects.order_by("product_id").values_list("product_id", flat=True))
        chosen = sorted(rng.sample(listed, min(len(listed), max(count, 50))))
        by_id = dict(ProductDocument.objects.filter(product_id__in=chosen).values_list("product_id", "title"))
        titles = [by_id[pk] for pk in chosen if pk in by_id]
        rng.shuffle(titles)
        with_identifiers = sorted(rng.sample(listed, min(len(listed), max(count // 10, 5))))
        identifiers = [
            values[0]
            for values in ProductListing.objects.filter(product_id__in=with_identifiers)
            .order_by("product_id")
            .values_list("identifiers", flat=True)
            if values
        ]
        plan = {"category": [], "search": [], "filtered": [], "suggest": [], "product": []}
        for index in range(count):
            category = every_category[index % len(every_category)]
            url = category.get_absolute_url() if category else reverse("catalogue:index")
            params = {}
            sort = SORTS[index % len(SORTS)]
            if sort:
                params["sort_by"] = sort
            if index % 7 == 3:
                params["page"] = "2"
            plan["category"].append((url, params))

            title = titles[index % len(titles)] if titles else "товар"
            plan["search"].append((reverse("search:search"), {"q": self._search_words(rng, title, identifiers)}))
            plan["suggest"].append((reverse("search:suggest"), {"q": title.split()[0][: rng.randint(3, 6)]}))

        # Product pages (with their related products) of products drawn with the seed.
        for product in Product.objects.filter(pk__in=chosen[:count]).only("pk", "slug").order_by("pk"):
            plan["product"].append((product.get_absolute_url(), {}))
        rng.shuffle(plan["product"])
        filtered = self._filtered_pages(rng, categories + roots, count)
        plan["filtered"] = filtered or plan["category"]
        return plan

    @staticmethod
    def _search_words(rng, title, identifiers):
        words = [word for word in selectors.query_words(title) if len(word) > 3 and not word.isdigit()]
        kind = rng.random()
        if identifiers and kind < 0.1:
            return rng.choice(identifiers)
        if not words:
            return title
        word = rng.choice(words)
        if kind < 0.6:
            # Another form of the word: «дрель» -> «дрели», «лампа» -> «лампы».
            return word[:-1] + ("и" if word[-1] in "ьйяк" else "ы") if word[-1] in "аьйяк" else word
        if kind < 0.8 and len(words) > 1:
            return " ".join(rng.sample(words, 2))
        if kind < 0.9:
            return word[:2] + word[3:]  # a letter missed: a near miss
        return word

    @staticmethod
    def _filtered_pages(rng, categories, count):
        """Category URLs with two property filters (each its most common value there) and a price cap."""
        attributes = set(FilterSetting.objects.filter(is_filterable=True).values_list("attribute_id", flat=True))
        pages = []
        for category in categories:
            if len(pages) >= 40:
                break
            base = selectors.in_category(selectors.listings(), category)
            counts = selectors._facet_counts(base, ListingFilters())[0]["all"]
            common = sorted(
                (
                    (n, key, value)
                    for prefix, key, value, n in (
                        (*ProductListing.parse_facet(facet), n) for facet, n in counts.items()
                    )
                    if prefix == ProductListing.VALUE_PREFIX and key in attributes
                ),
                reverse=True,
            )
            chosen = {}
            for _, key, value in common:
                chosen.setdefault(key, value)
                if len(chosen) == 2:
                    break
            if len(chosen) < 2:
                continue
            prices = base.exclude(price=None).values_list("price", flat=True).order_by("price")
            total = prices.count()
            params = {f"f{key}": value for key, value in chosen.items()}
            if total:
                params["price_max"] = str(int(prices[total * 3 // 4]))
            pages.append((category.get_absolute_url(), params))
        return [pages[index % len(pages)] for index in range(count)] if pages else []

    # -- measuring --------------------------------------------------------------------------

    def _warm_up(self, client, plan):
        for requests in plan.values():
            for url, params in requests[:5]:
                client.get(url, params)

    def _round(self, client, plan, process=None):
        results = {}
        for name, requests in plan.items():
            times, queries, errors, slowest = [], [], 0, (0.0, "")
            for url, params in requests:
                reset_queries()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url, params)
                    elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    errors += 1
                times.append(elapsed * 1000)
                queries.append(len(captured))
                if elapsed * 1000 > slowest[0]:
                    slowest = (elapsed * 1000, f"{url}?{urlencode(params)}" if params else url)
            results[name] = (times, queries, errors, slowest)
            if process is not None and process.poll() is not None:
                self.stdout.write(self.style.WARNING(f"  the import ended during «{name}»"))
        return results

    def _print(self, label, results, baseline=None):
        self.stdout.write(f"\n{label}:")
        self.stdout.write(f"  {'scenario':<10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>9}  errors")
        for name, (times, queries, errors, _) in results.items():
            p50 = statistics.median(times)
            p95 = _percentile(times, 95)
            line = (
                f"  {name:<10} {p50:8.1f} {p95:8.1f} {max(times):8.1f} "
                f"{min(queries):>4}-{max(queries):<4}  {errors}"
            )
            if baseline is not None:
                base_p95 = _percentile(baseline[name][0], 95)
                line += f"   p95 {p95 / base_p95:.2f}× idle"
            self.stdout.write(line)
        for name, (_, _, _, (elapsed, url)) in results.items():
            self.stdout.write(f"  slowest {name}: {elapsed:.0f} ms {unquote(url)}")

    # -- the import running meanwhile ------------------------------------------------------------

    def _import_folder(self, options):
        folder = Path(options["import_folder"] or Path(tempfile.gettempdir()) / f"bench-storefront-{options['import_products']}")
        if not any(folder.glob("*.xml")):
            self.stdout.write(f"\nGenerating a {options['import_products']:,}-product catalogue in {folder}…")
            from integration_1c.testing.generator import generate_exchange

            generate_exchange(folder, products=options["import_products"], images=False, seed=options["seed"])
        return folder

    def _start_import(self, folder):
        self.stdout.write(f"\nImporting {folder} in another process (import_1c_folder) while measuring again…")
        return subprocess.Popen(
            [sys.executable, "manage.py", "import_1c_folder", str(folder)],
            cwd=settings.BASE_DIR,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def _percentile(values, percent):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
