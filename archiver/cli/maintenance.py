"""``archiver reflatten DB``: re-derive rows from the raw JSON already archived."""

from __future__ import annotations

import click
import sqlite_utils

from archiver.cli.common import (
    finish_recorded,
    handle_errors,
    local_output_options,
    setup_logging,
)
from archiver.interrupts import interrupt_raises
from archiver.providers import registry
from archiver.store.rebuild import Reflattener, ReflattenSummary, reflatten


def reflatteners() -> dict[str, Reflattener]:
    """Every provider that can re-derive its rows, by name."""
    return {
        p.name: p.reflatten
        for p in registry.with_capability("reflatten")
        if p.reflatten is not None
    }


@click.command("reflatten")
@click.argument("db", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--all", "everything", is_flag=True, help="Re-derive every conversation, not only stale ones."
)
@local_output_options
@handle_errors
def reflatten_command(db: str, everything: bool, quiet: bool, verbose: bool) -> None:
    """Re-derive message rows from the raw JSON in DB, without downloading anything.

    After upgrading archiver, conversations flattened by an older version of their provider's
    flattener are rebuilt from their stored upstream JSON; --all rebuilds every conversation of
    every provider that can (`archiver providers` lists them). A conversation whose stored JSON
    is corrupt is skipped and named. Exit codes: 0 ok, 2 bad DB, 3 some conversations skipped.
    """
    setup_logging(verbose)

    async def work(database: sqlite_utils.Database) -> ReflattenSummary:
        with interrupt_raises():  # synchronous work: Ctrl-C stops it at once
            return reflatten(database, reflatteners(), everything=everything)

    # Under the lock and recorded in `runs`, like every command that writes.
    finish_recorded(db, "reflatten", work, quiet=quiet)
