"""``manage.py generate_exchange <dir>``: write a synthetic 1C exchange package to a folder."""

from django.core.management.base import BaseCommand, CommandError

from integration_1c.testing.generator import ENCODINGS, SCHEMAS, generate_exchange


class Command(BaseCommand):
    help = (
        "Write a realistic 1C CommerceML exchange (import.xml, offers.xml, … and import_files/) "
        "into a folder, for tests, demos and benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="Folder to write into (created if missing).")
        parser.add_argument("--products", type=int, default=100, help="How many products (default 100).")
        parser.add_argument("--schema", choices=SCHEMAS, default="2.08")
        parser.add_argument("--encoding", choices=ENCODINGS, default="utf-8")
        parser.add_argument(
            "--seed", type=int, default=1, help="The same seed gives the same ids and values."
        )
        parser.add_argument(
            "--variant-share", type=float, default=0.25, help="Share of products with variants."
        )
        parser.add_argument("--warehouses", type=int, default=3)
        parser.add_argument("--no-images", action="store_true", help="Do not write pictures.")
        parser.add_argument(
            "--changes-only",
            type=int,
            metavar="N",
            default=0,
            help="Instead of a full package, write a changes-only offers package changing N offers "
            "of the catalogue the other options describe.",
        )
        parser.add_argument("--demo", action="store_true", help="The ~60-product demo shop instead.")
        parser.add_argument(
            "--guid-names", action="store_true", help="Name files import___<guid>.xml as 1C-Bitrix does."
        )

    def handle(self, *args, **options):
        if options["products"] < 0 or options["changes_only"] < 0:
            raise CommandError("--products and --changes-only must not be negative")
        exchange = generate_exchange(
            options["directory"],
            products=options["products"],
            schema=options["schema"],
            encoding=options["encoding"],
            seed=options["seed"],
            variant_share=options["variant_share"],
            warehouses=options["warehouses"],
            images=not options["no_images"],
            changes_only=bool(options["changes_only"]),
            changed_offers=options["changes_only"],
            demo=options["demo"],
            guid_names=options["guid_names"],
        )
        kind = "changes-only package" if exchange.changes_only else "full exchange"
        self.stdout.write(
            f"Wrote a {kind} (schema {exchange.schema}, {exchange.encoding}) to {exchange.dir}: "
            f"{exchange.products} products, {exchange.offers} offers, {len(exchange.images)} pictures."
        )
        for path in exchange.files:
            self.stdout.write(f"  {path.name}  {path.stat().st_size:,} bytes")
