"""The ``archiver`` command: a click group of small subcommands, each thin wiring over the
library. Each capability registers its commands here, one line each.

Subcommands are imported only when used, so ``archiver search`` starts without loading aiohttp
and the rest of the network stack."""

from __future__ import annotations

import importlib

import click

from archiver import __version__
from archiver.interrupts import handle_sigterm

# command name -> "module:attribute" of its click command
COMMANDS = {
    "backup": "archiver.cli.backup:backup",
    "import": "archiver.cli.importing:import_command",
    "search": "archiver.cli.query:search_command",
    "export": "archiver.cli.query:export_command",
    "stats": "archiver.cli.query:stats_command",
    "runs": "archiver.cli.query:runs_command",
    "batch": "archiver.cli.batch:batch_command",
    "results": "archiver.cli.batch:results_command",
    "doctor": "archiver.cli.account:doctor_command",
    "reflatten": "archiver.cli.maintenance:reflatten_command",
    "emulator": "archiver.emulator.cli:emulator_command",
    "run": "archiver.cli.jobs:run_command",
    "schedule": "archiver.cli.jobs:schedule_command",
    "serve": "archiver.cli.serve:serve_command",
    "keys": "archiver.cli.serve:keys_command",
    "providers": "archiver.cli.providers:providers_command",
    "mcp": "archiver.cli.mcp:mcp_command",
}
# The commands generated from the provider registry (each provider's account tools, such as
# ``shared``): asked for only when a name is not in COMMANDS, so those stay light.
GENERATED = "archiver.cli.tools"


class LazyGroup(click.Group):
    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        generated = importlib.import_module(GENERATED).names()
        return sorted({*super().list_commands(ctx), *self.lazy, *generated})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            if cmd_name in self.lazy:
                module_name, _, attribute = self.lazy[cmd_name].partition(":")
                command = getattr(importlib.import_module(module_name), attribute)
            else:
                command = importlib.import_module(GENERATED).command(cmd_name)
            if command is not None:
                self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="archiver")
def cli() -> None:
    """Keep a complete, local, queryable SQLite archive of your AI chat history.

    Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial, 75 another run holds the lock,
    130 interrupted (Ctrl-C or SIGTERM).
    """
    handle_sigterm()
