"""Findings 6, 8, 10, 14: bad arguments get one line and exit 2, never a traceback or a secret."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from archiver.cli import cli


def run(args, env=None):
    return CliRunner().invoke(cli, args, env=env or {})


@pytest.mark.parametrize(
    "args",
    [["backup", "chatgpt", ""], ["import", "", "{csv}"], ["batch", "", "{csv}"]],
)
def test_an_empty_database_path_is_a_one_line_error(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    csv = tmp_path / "p.csv"
    csv.write_text("prompt\nhi\n")
    args = [a.replace("{csv}", str(csv)) for a in args]
    result = run(args, {"CHATGPT_ACCESS_TOKEN": "t"})
    assert result.exit_code == 2, result.output
    assert "database path is empty" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_directory_as_database_in_a_job_file(tmp_path):
    job = tmp_path / "j.toml"
    job.write_text('kind = "backup chatgpt"\ndb = "/"\n')
    result = run(["run", str(job)], {"CHATGPT_ACCESS_TOKEN": "t"})
    assert result.exit_code == 2 and "is a directory" in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_a_token_given_as_token_file_is_never_echoed(tmp_path):
    token = "eyJhbGciOiJSUzI1NiJ9.secret-part"
    result = run(["backup", "chatgpt", str(tmp_path / "a.db"), "--token-file", token])
    assert result.exit_code == 2
    assert token not in result.output and "eyJ" not in result.output
    assert "does not name a readable file" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--fail-rate", "2"],
        ["--drop-rate", "-0.1"],
        ["--latency-ms", "-5"],
        ["--port", "70000"],
        ["--host", "0.0.0.0"],
    ],
)
def test_the_emulator_refuses_nonsense(args):
    result = run(["emulator", *args])
    assert result.exit_code == 2, result.output


def test_the_emulator_on_a_taken_port_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["emulator", "--port", str(port)])
    assert result.exit_code == 2
    assert "cannot serve on 127.0.0.1" in result.output


@pytest.mark.parametrize("value", ["-1", "0"])
def test_timeout_is_range_checked(tmp_path, value):
    result = run(["backup", "chatgpt", str(tmp_path / "a.db"), "--timeout", value])
    assert result.exit_code == 2 and "--timeout" in result.output


def test_a_missing_database_directory_is_not_created(tmp_path):
    db = tmp_path / "typo" / "archive.db"
    result = run(["backup", "chatgpt", str(db)], {"CHATGPT_ACCESS_TOKEN": "t"})
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not db.parent.exists()
