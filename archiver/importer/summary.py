"""What an import reports, for every export format: conversations read, new, updated,
unchanged, skipped (older than what the archive has), failed; messages written; files matched,
stored and extracted; other files kept whole. A format with more to say subclasses it."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL
from archiver.store.save import SaveOutcome
from archiver.summary import Summary


@dataclass
class ImportSummary(Summary):
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_older: int = 0
    failed: int = 0
    duplicates: int = 0  # conversations found again in a later conversation file
    messages: int = 0  # nodes written (new and updated conversations)
    attachments: int = 0  # attachment rows matched to a file of the export
    files_stored: int = 0  # files put into the file store beside the database
    extracted: int = 0
    json_files: int = 0  # other files of the export archived (new name or content)

    @property
    def label(self) -> str:
        """Every format's summary line starts ``import:`` (a subclass's too)."""
        return "import"

    @property
    def exit_code(self) -> int:
        """0 all read; 3 partial (something failed, the rest imported); 2 nothing usable
        (nothing readable, or every entry read failed)."""
        if not self.errors:
            return EXIT_OK
        return EXIT_PARTIAL if self.read > self.failed else EXIT_CONFIG

    def count(self, outcome: SaveOutcome, messages: int) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        if outcome in (SaveOutcome.NEW, SaveOutcome.UPDATED):
            self.messages += messages
