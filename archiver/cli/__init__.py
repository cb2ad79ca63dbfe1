"""The ``archiver`` command: a click group of small subcommands, each thin wiring over the
library. Each capability registers its commands here, one line each."""

from __future__ import annotations

import click

from archiver import __version__
from archiver.cli.backup import backup
from archiver.cli.jobs import run_command, schedule_command


@click.group()
@click.version_option(__version__, prog_name="archiver")
def cli() -> None:
    """Keep a complete, local, queryable SQLite archive of your AI chat history.

    Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial, 75 another run holds the lock.
    """


cli.add_command(backup)
cli.add_command(run_command)
cli.add_command(schedule_command)
