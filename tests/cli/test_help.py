"""Every command and subcommand, however deep, has help text and a working --help."""

from __future__ import annotations

import click
from click.testing import CliRunner

from archiver.cli import cli


def walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


def test_every_command_has_help_and_help_exits_zero():
    runner = CliRunner()
    seen = []
    for path, command in walk(cli):
        assert (command.help or "").strip(), f"no help text: archiver {' '.join(path)}"
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        seen.append(path)
    assert ("search",) in seen and ("export",) in seen and ("stats",) in seen
