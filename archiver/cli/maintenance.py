"""``archiver reflatten DB``: re-derive rows from the raw JSON already archived."""

from __future__ import annotations

import click

from archiver.cli.common import finish, handle_errors, local_output_options, setup_logging
from archiver.store import open_db
from archiver.store.rebuild import reflatten


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
    summary = reflatten(open_db(db), everything=everything)
    finish(summary.line(), summary.exit_code, quiet=quiet, errors=summary.errors)
