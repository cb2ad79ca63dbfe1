"""The ``import`` job kind and the options ``archiver import`` shares with it. Kept apart from
the network-calling kinds so that ``archiver import`` starts without loading aiohttp (about a
sixth of a second of every import's wall time)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from archiver.errors import ConfigError
from archiver.importer.files import (
    DEFAULT_MAX_ENTRY_BYTES,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_TOTAL_BYTES,
    ExtractLimits,
    MiB,
)
from archiver.interrupts import interrupt_raises
from archiver.options import JobValues, Option, boolean, integer, path
from archiver.progress import Progress


def required(job: JobValues, key: str) -> Any:
    """A job key without a default that the job file must give."""
    value = job.options.get(key)
    if value is None:
        raise ConfigError(f"missing required key {key!r}")
    return value


IMPORT_OPTIONS: dict[str, Option] = {
    "path": Option(
        path, None, "the export zip, its unpacked folder, or its conversations file", cli=False
    ),
    "no_files": Option(
        boolean,
        False,
        "Do not put the export's files (uploads, images) into the file store beside DB; "
        "their names are still recorded.",
    ),
    "extract_files": Option(
        path, None, "Also copy the export's attachments and images into this folder."
    ),
    "max_file_mb": Option(
        integer(1),
        DEFAULT_MAX_FILE_BYTES // MiB,
        "Refuse to store or extract a single file bigger than this.",
    ),
    "max_total_mb": Option(
        integer(1),
        DEFAULT_MAX_TOTAL_BYTES // MiB,
        "Stop extracting once this much has been written.",
    ),
    "max_entry_mb": Option(
        integer(1),
        DEFAULT_MAX_ENTRY_BYTES // MiB,
        "Refuse (by name) a single conversation whose JSON is bigger than this, and go on.",
    ),
    "jobs": Option(
        integer(1, 2),
        None,
        "2: parse the export in a second process while this one saves (the default for "
        "exports over 8 MB on a machine with 2+ cores); 1: do everything in one process.",
    ),
}


def run_import(
    db: sqlite_utils.Database,
    export_path: str | Path,
    values: Mapping[str, Any],
    progress: Progress | None = None,
) -> Any:
    """``import`` with the values of IMPORT_OPTIONS (command line or job file): the export
    goes to the registered format that recognises it (``Provider.export``)."""
    from archiver.importer.source import ImportOptions, claimed_export
    from archiver.providers import registry

    options = ImportOptions(
        extract_dir=values["extract_files"],
        limits=ExtractLimits(
            values["max_file_mb"] * MiB,
            values["max_total_mb"] * MiB,
            values["max_entry_mb"] * MiB,
        ),
        jobs=values["jobs"],
        store_files=not values["no_files"],
    )
    formats = [p.export for p in registry.with_capability("import") if p.export is not None]
    # The import is synchronous: Ctrl-C must not wait for its end.
    with interrupt_raises(), claimed_export(export_path, formats) as (chosen, files):
        return chosen.run(db, files, options, progress)


async def run_import_job(db: sqlite_utils.Database, job: JobValues) -> Any:
    return run_import(db, required(job, "path"), job.options)
