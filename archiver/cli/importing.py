"""``archiver import DB PATH``: load ChatGPT's official data export into the archive."""

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
from archiver.importer.run import ImportSummary
from archiver.jobs.import_kind import IMPORT_OPTIONS, run_import


@click.command("import")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("path", type=click.Path(exists=True))
@click_options(IMPORT_OPTIONS)
@local_output_options
@handle_errors
def import_command(db: str, path: str, quiet: bool, verbose: bool, **values: Any) -> None:
    """Import a ChatGPT data export into DB.

    PATH is the export zip as downloaded, its unpacked folder, or a conversations.json. Every
    conversation and every branch goes into the same tables as `archiver backup chatgpt`;
    re-importing skips unchanged conversations and an older export never overwrites newer data.
    Exit codes: 0 ok, 2 nothing could be read, 3 partial (some conversations or files failed),
    75 DB in use by another run.
    """
    setup_logging(verbose)
    values = with_defaults(IMPORT_OPTIONS, values)

    async def work(database: sqlite_utils.Database) -> ImportSummary:
        summary: ImportSummary = run_import(database, path, values, ClickProgress(not quiet))
        return summary

    # Under the database lock, recorded in `runs`, like every command that writes.
    finish_recorded(db, "import", work, quiet=quiet)
