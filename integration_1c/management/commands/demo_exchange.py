"""
``manage.py demo_exchange``: fill a running shop with the demo catalogue, the way 1C does.

It generates the ~60-product demo package into a temporary folder and sends it to the
site over real HTTP with the 1C client emulator (checkauth, init, upload, import until
success). ``make run`` starts it in the background with ``--wait-for-server --if-empty``,
so a fresh checkout opens with a catalogue that arrived through the real exchange.
"""

import os
import tempfile
import time
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from integration_1c import conf
from integration_1c.testing.generator import DEFAULT_PRICE_TYPES, SCHEMAS, generate_exchange
from integration_1c.testing.emulator import (
    DEFAULT_EXCHANGE_PATH,
    ExchangeError,
    ExchangeFailed,
    HttpTransport,
    OneCClient,
)

WAIT_SECONDS = 60


class Command(BaseCommand):
    help = "Send the demo catalogue to a running shop over HTTP, as 1C would."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The shop's address.")
        parser.add_argument("--path", default=DEFAULT_EXCHANGE_PATH, help="The exchange URL path.")
        parser.add_argument(
            "--wait-for-server",
            action="store_true",
            help=f"Wait up to {WAIT_SECONDS} s for the server to answer first.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the catalogue already has products."
        )
        parser.add_argument("--user", default=os.environ.get("ONEC_EXCHANGE_USER", "1c"))
        parser.add_argument("--password", default=os.environ.get("ONEC_EXCHANGE_PASSWORD", "1c-exchange"))
        parser.add_argument("--schema", choices=SCHEMAS, default="2.08")
        parser.add_argument("--encoding", choices=("utf-8", "windows-1251"), default="utf-8")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        url = options["url"].rstrip("/")
        if options["wait_for_server"]:
            self._wait_for(url)
        if options["if_empty"] and self._catalogue_has_products():
            self.stdout.write("demo_exchange: the catalogue already has products; nothing sent.")
            return
        self._choose_old_price_type()
        with tempfile.TemporaryDirectory(prefix="demo-exchange-") as folder:
            exchange = generate_exchange(
                folder,
                demo=True,
                schema=options["schema"],
                encoding=options["encoding"],
                seed=options["seed"],
            )
            client = OneCClient(
                HttpTransport(url, options["path"]),
                options["user"],
                options["password"],
                version=options["schema"],
                poll_interval=0.5,
                timeout=600,
            )
            self.stdout.write(
                f"demo_exchange: sending {exchange.products} products, {exchange.offers} offers and "
                f"{len(exchange.images)} pictures to {client.transport.url} as 1C user {options['user']!r}…"
            )
            try:
                result = client.exchange_catalog(exchange)
            except ExchangeFailed as error:
                hint = ""
                if error.answer is not None and error.answer.mode == "checkauth":
                    hint = (
                        "\nCreate the exchange user (manage.py setup_shop does) or pass --user/--password "
                        "(env ONEC_EXCHANGE_USER / ONEC_EXCHANGE_PASSWORD)."
                    )
                raise CommandError(f"demo_exchange: the site refused the exchange: {error}{hint}") from error
            except (ExchangeError, OSError) as error:
                raise CommandError(f"demo_exchange: {error}") from error
        uploads = ", ".join(
            f"{name} ({size:,} bytes in {chunks} chunk{'s' if chunks > 1 else ''})"
            for name, size, chunks in result.uploads[:3]
        )
        if len(result.uploads) > 3:
            uploads += f" and {len(result.uploads) - 3} more files"
        self.stdout.write(f"  uploaded {uploads}{' as a zip' if result.zip else ''}")
        for name, answer in result.files.items():
            self.stdout.write(f"  {name}: {answer.status}{' — ' + answer.reason if answer.reason else ''}")
        self.stdout.write(
            self.style.SUCCESS(
                f"demo_exchange: done in {result.seconds:.1f} s ({result.progress_answers} progress answers)."
            )
        )

    def _choose_old_price_type(self):
        """
        The demo catalogue carries an old-price type («Старая цена», only on discounted
        offers): when the owner chose none, choose it (in the settings editable in the
        admin), so the demo shop shows crossed-out prices and discounts.
        """
        if conf.get("ONEC_OLD_PRICE_TYPE"):
            return
        from constance import config

        old_price_type = next(name for name in DEFAULT_PRICE_TYPES if "стар" in name.casefold())
        setattr(config, "ONEC_OLD_PRICE_TYPE", old_price_type)
        self.stdout.write(f"demo_exchange: old prices shown from the price type {old_price_type!r}.")

    def _wait_for(self, url):
        deadline = time.monotonic() + WAIT_SECONDS
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            try:
                opener.open(url + "/", timeout=5).close()
                return
            except urllib.error.HTTPError:
                return  # Any HTTP answer means the server is up.
            except (urllib.error.URLError, OSError) as error:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"demo_exchange: {url} did not answer within {WAIT_SECONDS} s ({error})"
                    )
                time.sleep(1)

    def _catalogue_has_products(self):
        from oscar.core.loading import get_model

        return get_model("catalogue", "Product").objects.exists()
