"""``manage.py rebuild_search_index``: rebuild the storefront's listing rows from the catalogue."""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from shop.apps.search import caching, indexing


class Command(BaseCommand):
    help = (
        "Rebuild the listing rows (search text, prices, availability, filter values) of every listed "
        "product from Oscar's tables. The 1C import keeps them current; run this after restoring a "
        "database or editing the catalogue with SQL."
    )

    def handle(self, *args, **options):
        started = time.monotonic()

        def progress(done, total):
            if options["verbosity"] > 1 or done == total:
                self.stdout.write(f"  {done:,} / {total:,}")

        with transaction.atomic():
            count = indexing.rebuild_all(progress=progress)
        caching.forget_latest()  # a restored database's counts: never answered while counting again
        self.stdout.write(
            self.style.SUCCESS(f"Listing rows rebuilt for {count:,} products in {time.monotonic() - started:.1f} s.")
        )
