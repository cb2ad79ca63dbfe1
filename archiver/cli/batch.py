"""``archiver batch DB PROMPTS.csv`` and ``archiver results DB``."""

from __future__ import annotations

import sys
from typing import IO, Any, cast

import click

from archiver.batch import write_results
from archiver.batch.results import FORMATS
from archiver.cli.common import (
    ClickProgress,
    finish_recorded,
    handle_errors,
    output_options,
    setup_logging,
)
from archiver.cli.options import click_options, with_defaults
from archiver.cli.terminal import TerminalStream
from archiver.jobs.batch_kind import BATCH_OPTIONS, batch_work
from archiver.store import open_db


class BatchProgress(ClickProgress):
    """The bar's label follows the counts: done, failed, rate (click adds the ETA)."""

    def describe(self, text: str) -> None:
        if self._bar is not None:
            self._bar.label = text


@click.command("batch")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("prompts", type=click.Path(dir_okay=False, exists=True), required=False)
@click_options(BATCH_OPTIONS)
@output_options
@handle_errors
def batch_command(db: str, prompts: str | None, quiet: bool, verbose: bool, **values: Any) -> None:
    """Send every row's prompt of PROMPTS (a UTF-8 CSV) through an account or an API; record
    every answer in DB.

    Columns: 'prompt' (or --template over any columns), optional 'id' (stable row key),
    'thread' (rows sharing it form one conversation, in file order), 'model' and 'system' (an
    instruction, for providers that take one). The whole file is checked before anything is
    sent. Run it again to resume: rows already answered are skipped. --batch-api goes through
    the provider's batch endpoint; `archiver batch DB --collect` (no PROMPTS) fetches what it
    left waiting. Exit codes: 0 all answered (or waiting in a batch), 2 bad input/auth/config,
    3 some rows failed or are still pending, 75 DB in use by another run.
    """
    setup_logging(verbose)
    values = with_defaults(BATCH_OPTIONS, values)
    work = batch_work(
        prompts, values, lambda p: p.settings_from_env(values), BatchProgress(not quiet)
    )
    # Under the database lock: two batches on one archive would send every prompt twice.
    finish_recorded(db, "batch", work, quiet=quiet)


@click.command("results")
@click.argument("db", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(1, 2**63 - 1),  # SQLite's integers: a larger one cannot be an id
    help="The batch run (default: the latest).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@handle_errors
def results_command(db: str, run_id: int | None, fmt: str, out: str | None) -> None:
    """Write a batch run's answers in input order, with each row's key and status.

    In CSV, cells a spreadsheet would run as a formula get a leading apostrophe. On a
    terminal, control characters of the answers are not printed (escape sequences).
    """
    target: str | IO[str] | None = out
    if out is None and sys.stdout.isatty():
        target = cast(IO[str], TerminalStream(sys.stdout))
    write_results(open_db(db), run_id, fmt, target)
