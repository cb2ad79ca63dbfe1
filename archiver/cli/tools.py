"""``archiver NAME DB`` for every account tool a provider declares (``base.Tools``): the
command's flags are generated from the tool's options; what a run does, whether it writes and
what it prints is the provider's module's answer (``ToolCall``)."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.common import declared_command, finish, run_summary, setup_logging
from archiver.cli.options import with_defaults
from archiver.cli.terminal import echo
from archiver.providers import registry
from archiver.providers.base import Tool, Tools


def declared_tools() -> dict[str, tuple[Tools, Tool]]:
    """Every provider's tools by name (a name is a command of ``archiver``: one owner)."""
    found: dict[str, tuple[Tools, Tool]] = {}
    for provider in registry.all_providers():
        if provider.tools is None:
            continue
        for tool in provider.tools.tools:
            if tool.name in found:  # pragma: no cover - a declaration mistake
                raise TypeError(f"two providers declare the tool {tool.name!r}")
            found[tool.name] = (provider.tools, tool)
    return found


def tool_command(tools: Tools, tool: Tool) -> click.Command:
    @declared_command(tool.name, tool.help, tool.options)
    def command(db: str, quiet: bool, verbose: bool, **values: Any) -> None:
        setup_logging(verbose)
        call = tools.open(tool, with_defaults(tool.options, values))
        summary = run_summary(db, call.work, job=call.job, kind=call.kind)
        if call.lines_when_quiet or not quiet:
            for line in call.lines(summary):
                echo(line)
        finish(summary.line(), summary.exit_code, quiet=quiet, errors=summary.errors)

    return command


def names() -> list[str]:
    return list(declared_tools())


def command(name: str) -> click.Command | None:
    """The command of tool ``name``, or None when no provider declares one."""
    found = declared_tools().get(name)
    return None if found is None else tool_command(*found)
