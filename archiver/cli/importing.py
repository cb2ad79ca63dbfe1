"""``archiver import DB PATH``: load ChatGPT's official data export into the archive."""

from __future__ import annotations

import click
import sqlite_utils

from archiver.cli.common import (
    ClickProgress,
    finish,
    handle_errors,
    local_output_options,
    run_async,
    setup_logging,
)
from archiver.importer import import_export
from archiver.importer.files import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_TOTAL_BYTES,
    ExtractLimits,
    MiB,
)
from archiver.importer.run import ImportSummary
from archiver.jobs.runner import run_recorded


@click.command("import")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--extract-files",
    "extract_dir",
    type=click.Path(file_okay=False),
    help="Also copy the export's attachments and images into this folder.",
)
@click.option(
    "--max-file-mb",
    default=DEFAULT_MAX_FILE_BYTES // MiB,
    show_default=True,
    type=click.IntRange(min=1),
    help="Refuse to extract a single file bigger than this.",
)
@click.option(
    "--max-total-mb",
    default=DEFAULT_MAX_TOTAL_BYTES // MiB,
    show_default=True,
    type=click.IntRange(min=1),
    help="Stop extracting once this much has been written.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 2),
    default=None,
    help="2: parse the export in a second process while this one saves (the default for "
    "exports over 8 MB on a machine with 2+ cores); 1: do everything in one process.",
)
@local_output_options
@handle_errors
def import_command(
    db: str,
    path: str,
    extract_dir: str | None,
    max_file_mb: int,
    max_total_mb: int,
    jobs: int | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Import a ChatGPT data export into DB.

    PATH is the export zip as downloaded, its unpacked folder, or a conversations.json. Every
    conversation and every branch goes into the same tables as `archiver backup chatgpt`;
    re-importing skips unchanged conversations and an older export never overwrites newer data.
    Exit codes: 0 ok, 2 nothing could be read, 3 partial (some conversations or files failed).
    """
    setup_logging(verbose)

    async def work(database: sqlite_utils.Database) -> ImportSummary:
        return import_export(
            database,
            path,
            extract_dir=extract_dir,
            limits=ExtractLimits(max_file_mb * MiB, max_total_mb * MiB),
            progress=ClickProgress(not quiet),
            jobs=jobs,
        )

    # Under the database lock, recorded in `runs`, like every command that writes.
    result = run_async(run_recorded(db, job="import", kind="import", work=work))
    finish(result.line, result.exit_code, quiet=quiet, errors=result.errors)
