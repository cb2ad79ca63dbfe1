"""How ``archiver run`` records and reports jobs that fail in unexpected ways, and the messages
it gives for credentials a job cannot find."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.jobs import runner
from archiver.jobs.kinds import get_kind
from archiver.store import open_db
from archiver.store.runs import recent_runs
from tests.support.jobhelpers import write_job

SECRET_URL = "https://upstream.example/api?access_token=sk-live-very-secret"


def crash_with(monkeypatch, exc: BaseException) -> None:
    """Jobs named ``crash`` raise ``exc`` from inside their run; others run as usual."""

    def patched_get_kind(name):
        kind = get_kind(name)
        real_run = kind.run

        async def run(db, job):
            if job.name == "crash":
                raise exc
            return await real_run(db, job)

        return dataclasses.replace(kind, run=run)

    monkeypatch.setattr(runner, "get_kind", patched_get_kind)


def crash_job(tmp_path):
    return write_job(tmp_path, "crash", kind="backup chatgpt", db="crash.db")


def test_unexpected_exception_is_failed_not_interrupted(tmp_path, monkeypatch, token_env):
    crash_with(monkeypatch, RuntimeError(f"GET {SECRET_URL} went wrong"))
    log_file = tmp_path / "crash.log"
    result = CliRunner().invoke(cli, ["run", "--log-file", str(log_file), str(crash_job(tmp_path))])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [run] = recent_runs(open_db(tmp_path / "crash.db"))
    assert run["status"] == "failed" and run["exit_code"] == 1
    assert "RuntimeError" in run["error"]
    assert "RuntimeError" in result.output
    for text in (run["error"], result.output, log_file.read_text()):
        assert "sk-live" not in text and "access_token" not in text


def test_os_error_names_its_reason_and_file(tmp_path, monkeypatch, token_env):
    crash_with(monkeypatch, PermissionError(13, "Permission denied", "/srv/archive/blob"))
    result = CliRunner().invoke(cli, ["run", str(crash_job(tmp_path))])
    assert result.exit_code == 1
    [run] = recent_runs(open_db(tmp_path / "crash.db"))
    assert "PermissionError: Permission denied: /srv/archive/blob" in run["error"]


def test_a_crashing_job_does_not_stop_the_next(tmp_path, monkeypatch, backup_job, token_env):
    crash_with(monkeypatch, ValueError(SECRET_URL))
    result = CliRunner().invoke(cli, ["run", str(crash_job(tmp_path)), str(backup_job)])
    assert result.exit_code == 1  # the worst of failed (1) and ok (0)
    assert "nightly: chatgpt: listed 1" in result.output  # the job after the crash ran
    assert [r["status"] for r in recent_runs(open_db(tmp_path / "archive.db"))] == ["ok"]
    assert "sk-live" not in result.output


def test_keyboard_interrupt_is_still_interrupted(tmp_path, monkeypatch, backup_job, token_env):
    crash_with(monkeypatch, KeyboardInterrupt())
    result = CliRunner().invoke(cli, ["run", str(crash_job(tmp_path)), str(backup_job)])
    assert result.exit_code == 130
    [run] = recent_runs(open_db(tmp_path / "crash.db"))
    assert run["status"] == "interrupted" and run["exit_code"] == 130
    assert not (tmp_path / "archive.db").exists()  # Ctrl-C stops the jobs after it


@pytest.mark.parametrize(
    "value",
    [
        "session=abc123",  # a cookie pasted where its variable's name belongs
        "lowercase_name",
        "A" * 65,
        "9STARTS_WITH_DIGIT",
    ],
)
def test_credential_env_must_be_a_conventional_name(tmp_path, value):
    path = write_job(tmp_path, kind="backup chatgpt", db="a.db", token_env=value)
    result = CliRunner().invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert "token_env" in result.output and "UPPER_CASE" in result.output
    assert value not in result.output
    assert not (tmp_path / "a.db").exists()


def test_unset_variable_is_named_once_with_the_job(tmp_path, monkeypatch):
    monkeypatch.delenv("NOENV_TOKEN", raising=False)
    path = write_job(tmp_path, "noenv", kind="backup chatgpt", db="a.db", token_env="NOENV_TOKEN")
    result = CliRunner().invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output.count("noenv:") == 1, result.output
    assert "set the environment variable NOENV_TOKEN" in result.output
    [run] = recent_runs(open_db(tmp_path / "a.db"))
    assert run["error"].startswith("no ChatGPT access token")
