"""``archiver backup PROVIDER DB``: one subcommand per registered provider, its options
generated from the provider's declaration (the same keys its ``backup PROVIDER`` job kind
takes)."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.common import (
    ClickProgress,
    finish_recorded,
    handle_errors,
    output_options,
    setup_logging,
)
from archiver.cli.options import click_options, with_defaults
from archiver.jobs.cooldown import unless_cooling_down
from archiver.providers import registry

db_argument = click.argument("db", type=click.Path(dir_okay=False))


def backup_command(provider: registry.Provider) -> click.Command:
    @click.command(provider.name, help=provider.backup_help)
    @db_argument
    @click_options(provider.backup_options)
    @output_options
    @handle_errors
    def command(db: str, quiet: bool, verbose: bool, **values: Any) -> None:
        setup_logging(verbose)
        values = with_defaults(provider.backup_options, values)
        # A provider that signs in with a session file too (ChatGPT) gets it from the start.
        session = {"session_file": values["session_file"]} if values.get("session_file") else {}
        settings = provider.settings_from_env(values.get(f"{provider.secret}_file"), **session)
        finish_recorded(
            db,
            provider.backup_kind,
            lambda database: unless_cooling_down(
                database,
                provider.name,
                settings.account,
                values,
                lambda: provider.run_backup(database, settings, values, ClickProgress(not quiet)),
            ),
            quiet=quiet,
        )

    return command


class BackupGroup(click.Group):
    """Subcommands come from the provider registry, loaded only when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(registry.names())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in registry.names():
            return None
        return backup_command(registry.get(cmd_name))


@click.group(cls=BackupGroup)
def backup() -> None:
    """Back up conversations from an upstream into an archive database."""
