"""``archiver import DB PATH``: load a data export (any provider's that has one) into the
archive."""

from __future__ import annotations

from typing import Any

import click
import sqlite_utils

from archiver.cli.common import (
    ClickProgress,
    finish_recorded,
    handle_errors,
    local_output_options,
    setup_logging,
)
from archiver.cli.options import click_options, with_defaults
from archiver.importer.summary import ImportSummary
from archiver.jobs.import_kind import IMPORT_OPTIONS, run_import


@click.command("import")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("path", type=click.Path(exists=True))
@click_options(IMPORT_OPTIONS)
@local_output_options
@handle_errors
def import_command(db: str, path: str, quiet: bool, verbose: bool, **values: Any) -> None:
    """Import a data export into DB: which provider's it is, is read from its content
    (`archiver providers` lists those that have one).

    PATH is the export zip as downloaded, its unpacked folder, or its conversations file.
    Every conversation and every branch the export holds goes into the same tables as a live
    backup; re-importing skips unchanged conversations and an older export never overwrites
    newer data. Exit codes: 0 ok, 2 not an export archiver knows or nothing could be read,
    3 partial (some conversations or files failed), 75 DB in use by another run.
    """
    setup_logging(verbose)
    values = with_defaults(IMPORT_OPTIONS, values)

    async def work(database: sqlite_utils.Database) -> ImportSummary:
        summary: ImportSummary = run_import(database, path, values, ClickProgress(not quiet))
        return summary

    # Under the database lock, recorded in `runs`, like every command that writes.
    finish_recorded(db, "import", work, quiet=quiet)
