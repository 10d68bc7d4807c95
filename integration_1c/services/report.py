"""
What applying one 1C file did, in numbers and in words a 1C operator reads.

The report is filled by the services while they write and copied into the
``ExchangeFile`` journal row at the end (see :mod:`.importer`). Warnings are capped: a
file with 100,000 products that all name an unknown property must not store 100,000
identical messages; the first :data:`MAX_WARNINGS` are kept and the rest counted.
"""

from dataclasses import dataclass, field

MAX_WARNINGS = 200
#: Ids of hidden products kept for the journal's link (a wrong full package may hide
#: the whole catalogue; the count stays exact, the list stops here).
MAX_HIDDEN_IDS = 20_000


@dataclass
class ImportReport:
    """Counters and warnings of one applied file."""

    #: File name, prefixed to every warning ("offers.xml: …").
    source: str = ""
    #: Document kind (``records.CATALOGUE``, ``records.OFFERS``, …) once known.
    kind: str = ""
    created: int = 0
    updated: int = 0
    hidden: int = 0
    skipped: int = 0
    #: Records read from the file and applied so far (the progress figure).
    processed: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Warnings beyond :data:`MAX_WARNINGS`, counted but not kept.
    warnings_dropped: int = 0
    #: Products a full package is about to hide (the journal links to them).
    hidden_ids: list[int] = field(default_factory=list)

    def clear(self):
        """Forget what was counted: the file is applied again from its start."""
        self.__init__(source=self.source)

    def remember_hidden(self, products):
        """Keep the ids of ``products`` (a queryset, read before it is hidden) for the journal."""
        room = MAX_HIDDEN_IDS - len(self.hidden_ids)
        if room > 0:
            self.hidden_ids.extend(products.order_by().values_list("pk", flat=True)[:room])

    def warn(self, message):
        """Keep a warning for the journal (prefixed with the file name)."""
        if self.source and not message.startswith(f"{self.source}:"):
            message = f"{self.source}: {message}"
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.warnings_dropped += 1

    def warning_count(self):
        """Warnings given so far, kept or not."""
        return len(self.warnings) + self.warnings_dropped

    def all_warnings(self):
        """The kept warnings, plus a line saying how many more there were."""
        if not self.warnings_dropped:
            return list(self.warnings)
        return [*self.warnings, f"… и ещё {self.warnings_dropped} предупреждений"]

    def summary(self):
        """One line for logs and the management command."""
        parts = [
            f"создано {self.created}",
            f"обновлено {self.updated}",
            f"скрыто {self.hidden}",
            f"пропущено {self.skipped}",
            f"записей {self.processed}",
        ]
        warnings = len(self.warnings) + self.warnings_dropped
        if warnings:
            parts.append(f"предупреждений {warnings}")
        return ", ".join(parts)
