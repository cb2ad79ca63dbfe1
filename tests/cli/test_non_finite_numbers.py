"""Issue 27: nan (which passes every range check) and inf are refused by every numeric option,
on the command line, in job files (``run`` and ``run --check``) and by the emulator; and the
arguments that used to end in a traceback end in one line and exit 2."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.jobs.kinds import KINDS
from archiver.options import non_negative_number, positive_number
from archiver.store import open_db
from tests.cli.test_run_check import KIND_COMMANDS, command_for

NOT_FINITE = ["nan", "inf", "-inf"]


# Should a check let a value through, the command would call these: a closed local port.
NOWHERE = "http://127.0.0.1:9"
ENV = {
    "CHATGPT_ACCESS_TOKEN": "t",
    "CHATGPT_BASE_URL": f"{NOWHERE}/backend-api",
    "BING_COOKIE": "c",
    "BING_BASE_URL": NOWHERE,
    "SYDNEY_BASE_URL": NOWHERE,
    "COPILOT_ACCESS_TOKEN": "t",
    "COPILOT_BASE_URL": NOWHERE,
}


def run(args):
    return CliRunner().invoke(cli, args, env=ENV)


def float_options(command: click.Command) -> list[click.Option]:
    return [
        p
        for p in command.params
        if isinstance(p, click.Option) and isinstance(p.type, click.FloatRange)
    ]


COMMANDS = {**KIND_COMMANDS, "doctor": ["doctor"], "shared": ["shared"], "titles": ["titles"]}
FLOAT_OPTIONS = [
    (name, param.opts[0])
    for name, words in sorted(COMMANDS.items())
    for param in float_options(command_for(words))
]


def test_the_commands_have_float_options():
    names = {option for _, option in FLOAT_OPTIONS}
    assert {"--max-rpm", "--timeout", "--max-wait"} <= names


@pytest.mark.parametrize(("command", "option"), FLOAT_OPTIONS)
@pytest.mark.parametrize("value", NOT_FINITE)
def test_every_float_option_refuses_a_value_that_is_not_finite(tmp_path, command, option, value):
    words = COMMANDS[command]
    csv = tmp_path / "p.csv"
    csv.write_text("prompt\nhi\n")
    positional = {
        "import": [str(tmp_path / "a.db"), str(csv)],
        "batch": [str(tmp_path / "a.db"), str(csv)],
    }
    args = [*words, *positional.get(command, [str(tmp_path / "a.db")]), option, value]
    if command == "doctor":
        args = [*words, option, value]
    result = run(args)
    assert result.exit_code == 2, (args, result.output)
    assert "finite" in result.output or "range" in result.output
    assert not (tmp_path / "a.db").exists()


NUMBER_KEYS = [
    (kind, key)
    for kind, job_kind in sorted(KINDS.items())
    for key, option in job_kind.options.items()
    if option.check in (positive_number, non_negative_number)
]


def test_the_job_kinds_have_number_keys():
    assert ("backup chatgpt", "max_rpm") in NUMBER_KEYS and ("batch", "timeout") in NUMBER_KEYS


@pytest.mark.parametrize(("kind", "key"), NUMBER_KEYS)
@pytest.mark.parametrize("value", ["nan", "inf", "-1.0"])
def test_job_files_refuse_nan_inf_and_negative_numbers(tmp_path, kind, key, value):
    job = tmp_path / "job.toml"
    job.write_text(f'kind = "{kind}"\ndb = "a.db"\n{key} = {value}\n', encoding="utf-8")
    result = run(["run", "--check", str(job)])  # the same loading as `run`
    assert result.exit_code == 2, result.output
    assert "job.toml" in result.output and key in result.output
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--fail-rate", "nan"],
        ["--drop-rate", "nan"],
        ["--challenge-rate", "inf"],
        ["--gone-file-rate", "nan"],
        ["--token-lifetime-s", "nan"],
        ["--token-lifetime-s", "-5"],
        ["--token-lifetime-s", "0"],
        ["--model-cap-clears-in", "nan"],
    ],
)
def test_the_emulator_refuses_nan_and_negative_lifetimes(args):
    # (--host: should the value pass, the command stops there instead of serving forever)
    result = run(["emulator", *args, "--host", "192.0.2.1"])
    assert result.exit_code == 2, result.output
    assert args[0] in result.output


def test_a_batch_run_id_too_large_for_sqlite_is_a_usage_error(tmp_path):
    open_db(tmp_path / "a.db").close()
    result = run(["results", str(tmp_path / "a.db"), "--run", "99999999999999999999999"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_nul_in_a_job_files_path_is_refused_by_run_check(tmp_path):
    job = tmp_path / "job.toml"
    job.write_text('kind = "backup chatgpt"\ndb = "a\\u0000b.db"\n', encoding="utf-8")
    result = run(["run", "--check", str(job)])
    assert result.exit_code == 2, result.output
    assert "'db'" in result.output and "NUL" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_doctor_refuses_a_timeout_below_one_second(value):
    result = run(["doctor", "--timeout", value])
    assert result.exit_code == 2, result.output
    assert "--timeout" in result.output
