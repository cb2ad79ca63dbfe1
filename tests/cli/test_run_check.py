"""Options are declared once: every option a command shows in --help is a key of the job kind
of the same name, accepted by ``archiver run --check``; and --check touches nothing."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from archiver.cli import cli

OUTPUT_ONLY = {"quiet", "verbose", "help", "log_file"}
KIND_COMMANDS = {
    "backup chatgpt": ["backup", "chatgpt"],
    "backup bing": ["backup", "bing"],
    "backup copilot": ["backup", "copilot"],
    "import": ["import"],
    "batch": ["batch"],
    "request-export": ["request-export"],
}


def command_for(words: list[str]) -> click.Command:
    ctx = click.Context(cli)
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group)
        found = command.get_command(ctx, word)
        assert found is not None, word
        command = found
    return command


def toml_value(param: click.Option) -> str:
    """A valid value for the option, written as TOML."""
    if param.is_flag:
        return "true"
    kind = param.type
    if isinstance(kind, click.Choice):
        return f'"{kind.choices[0]}"'
    if isinstance(kind, click.IntRange):
        return str(kind.min if kind.min is not None else 1)
    if isinstance(kind, click.FloatRange | click.types.FloatParamType):
        return "1.5"
    if kind is click.INT:
        return "1"
    if isinstance(kind, click.Path):
        return '"some/file"'
    return '"x"'


@pytest.mark.parametrize("kind", sorted(KIND_COMMANDS))
def test_every_command_option_is_a_job_key(kind, tmp_path):
    command = command_for(KIND_COMMANDS[kind])
    options = [
        p for p in command.params if isinstance(p, click.Option) and p.name not in OUTPUT_ONLY
    ]
    assert options, kind
    for param in options:
        job = tmp_path / f"{param.name}.toml"
        job.write_text(
            f'kind = "{kind}"\ndb = "a.db"\n{param.name} = {toml_value(param)}\n',
            encoding="utf-8",
        )
        result = CliRunner().invoke(cli, ["run", "--check", str(job)])
        assert result.exit_code == 0, (kind, param.name, result.output)
        assert f"{param.name} = " in result.output
    assert not (tmp_path / "a.db").exists()  # --check never opens the database


def test_check_names_the_file_and_key(tmp_path):
    job = tmp_path / "bad.toml"
    job.write_text('kind = "backup chatgpt"\ndb = "a.db"\nmax_rpm = "fast"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--check", str(job)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "max_rpm" in result.output


def test_check_shows_when_a_scheduled_job_runs_next(tmp_path):
    job = tmp_path / "nightly.toml"
    # Minute 0 of hour 3 on the 29th of February only: the next run is in a leap year.
    job.write_text(
        'kind = "backup chatgpt"\ndb = "a.db"\nschedule = "0 3 29 2 *"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["run", "--check", str(job)])
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.output.splitlines() if "schedule" in x]
    assert "# next: " in line
    next_run = line.split("# next: ")[1]
    year = int(next_run[:4])
    assert year % 4 == 0 and next_run[4:16] == "-02-29 03:00"
