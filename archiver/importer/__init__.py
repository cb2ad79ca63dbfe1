"""Import ChatGPT's official data export (zip, folder or conversations.json) into the archive:
``archiver.importer.run.import_export``.

Nothing is imported here eagerly on purpose: the import's worker process starts by importing
``archiver.importer.pipeline``, and loading the package's saving side (sqlite_utils and the
store) with it would cost that process a fifth of a second before its first entry."""

from typing import Any


def __getattr__(name: str) -> Any:
    """``from archiver.importer import import_export`` (and ImportSummary) still works: the run
    module is imported on first use instead."""
    if name in ("import_export", "ImportSummary"):
        from archiver.importer import run

        return getattr(run, name)
    raise AttributeError(f"module 'archiver.importer' has no attribute {name!r}")
