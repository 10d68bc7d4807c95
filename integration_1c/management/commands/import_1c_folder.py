"""
``manage.py import_1c_folder <dir>``: import a folder of 1C exchange files, as 1C would
send them.

The kind of each ``*.xml`` is read from its content (names vary: ``import0_1.xml``,
``offers___<guid>.xml``, ``rests___…``); files are applied catalogue kinds first
(classifier, catalogue), then offers, then offers changes — within a kind in the order
1C generated them (``ДатаФормирования``), then by name. Pictures are looked up relative
to the folder. Order documents (``type=sale``) are not part of a catalogue and are
skipped.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integration_1c.services import importer


class Command(BaseCommand):
    help = "Import every CommerceML file of a folder into the catalogue (catalogue first, then offers)."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="Folder with 1C exchange files (import*.xml, offers*.xml, …)")
        parser.add_argument(
            "--recursive",
            action="store_true",
            help="Also import xml files of sub-folders (pictures stay relative).",
        )

    def run_from_argv(self, argv):
        # Run as a process of its own (not call_command): shoppers first on a shared
        # machine, at the worker's lower CPU priority (ONEC_IMPORT_NICENESS).
        if settings.ONEC_IMPORT_NICENESS > 0:
            os.nice(settings.ONEC_IMPORT_NICENESS)
        super().run_from_argv(argv)

    def handle(self, folder, recursive=False, **options):
        base = Path(folder)
        if not base.is_dir():
            raise CommandError(f"{folder}: not a folder")
        started = timezone.now()  # one run: a full package split into files hides nothing the others list
        plan = importer.plan_folder(base, recursive=recursive)
        failed = []
        for path, message in plan.unreadable:
            failed.append(path.name)
            self.stderr.write(f"{path.name}: не распознан: {message}")
        for path, kind in plan.skipped:
            self.stdout.write(f"{path.name}: {kind} — пропущен (не каталог и не предложения)")
        if not plan.files and not failed:
            raise CommandError(f"{folder}: no CommerceML catalogue or offers files found")
        for path, _ in plan.files:
            label = str(path.relative_to(base))
            try:
                report = importer.apply_path(path, base_dir=base, since=started)
            except importer.ImportFailed as exc:
                failed.append(label)
                self.stderr.write(self.style.ERROR(f"{label}: НЕ ЗАГРУЖЕН — {exc}"))
                continue
            self.stdout.write(self.style.SUCCESS(f"{label} [{report.kind}]: {report.summary()}"))
            for warning in report.all_warnings()[: 20 if options["verbosity"] < 2 else None]:
                self.stdout.write(f"  ! {warning}")
        if failed:
            raise CommandError(f"{len(failed)} file(s) not imported: {', '.join(failed)}")
