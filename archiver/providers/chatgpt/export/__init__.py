"""ChatGPT's official data export: its layouts (``reader``), the two-process reading and
flattening (``pipeline``), the import (``run``), its other files (``extras``) and how it is
recognised (``recognise``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.summary import Summary


def detect(files: ExportFiles) -> bool:
    from archiver.providers.chatgpt.export.recognise import is_chatgpt_export

    return is_chatgpt_export(files)


def run_import(
    db: sqlite_utils.Database,
    files: ExportFiles,
    options: ImportOptions,
    progress: Progress | None,
) -> Summary:
    from archiver.providers.chatgpt.export.run import import_export

    return import_export(
        db,
        files.path,
        extract_dir=options.extract_dir,
        limits=options.limits,
        progress=progress,
        jobs=options.jobs,
        store_files=options.store_files,
    )
