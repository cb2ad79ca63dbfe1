"""``archiver backup PROVIDER DB``: one subcommand per registered provider, its options
generated from the provider's declaration (the same keys its ``backup PROVIDER`` job kind
takes)."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.common import ClickProgress, declared_command, finish_recorded, setup_logging
from archiver.cli.options import with_defaults
from archiver.cooldown import unless_cooling_down
from archiver.providers import registry
from archiver.providers.base import Backup


def backup_command(provider: registry.Provider, backup: Backup) -> click.Command:
    @declared_command(provider.name, backup.command_help, backup.options)
    def command(db: str, quiet: bool, verbose: bool, **values: Any) -> None:
        setup_logging(verbose)
        values = with_defaults(backup.options, values)
        settings = provider.settings_from_env(values)
        finish_recorded(
            db,
            provider.backup_kind,
            lambda database: unless_cooling_down(
                database,
                provider.name,
                settings.account,
                values,
                lambda: backup.run(database, settings, values, ClickProgress(not quiet)),
            ),
            quiet=quiet,
        )

    return command


class BackupGroup(click.Group):
    """Subcommands come from the provider registry, loaded only when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [p.name for p in registry.with_capability("backup")]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in registry.names():
            return None
        provider = registry.get(cmd_name)
        if provider.backup is None:
            return None
        return backup_command(provider, provider.backup)


@click.group(cls=BackupGroup)
def backup() -> None:
    """Back up conversations from an upstream into an archive database."""
