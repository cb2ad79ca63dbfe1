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
from archiver.store.rebuild import ReflattenSummary, reflatten


@click.command("reflatten")
@click.argument("db", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--all", "everything", is_flag=True, help="Re-derive every conversation, not only stale ones."
)
@local_output_options
@handle_errors
def reflatten_command(db: str, everything: bool, quiet: bool, verbose: bool) -> None:
    """Re-derive message rows from the raw JSON in DB, without downloading anything.

    After upgrading archiver, ChatGPT conversations flattened by an older flattener are rebuilt
    from their stored upstream JSON; --all rebuilds every ChatGPT conversation. (Bing chats are
    flat lists; their raw JSON is kept the same way.) A conversation whose stored JSON is
    corrupt is skipped and named. Exit codes: 0 ok, 2 bad DB, 3 some conversations skipped.
    """
    setup_logging(verbose)

    async def work(database: sqlite_utils.Database) -> ReflattenSummary:
        with interrupt_raises():  # synchronous work: Ctrl-C stops it at once
            return reflatten(database, everything=everything)

    # Under the lock and recorded in `runs`, like every command that writes.
    finish_recorded(db, "reflatten", work, quiet=quiet)
