"""``archiver schedule``: crontab lines and systemd units."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import stat
import subprocess

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.jobs.config import load_job
from archiver.jobs.cron import parse_cron
from archiver.jobs.schedule import archiver_command, crontab_text
from tests.support.jobhelpers import write_job


@pytest.fixture
def jobs(tmp_path):
    return [
        write_job(tmp_path, "nightly", kind="backup chatgpt", db="a.db", schedule="30 2 * * *"),
        write_job(
            tmp_path,
            "often",
            kind="backup chatgpt",
            db="b.db",
            schedule="*/15 8-18 * * mon-fri",
            token_file="token",
        ),
    ]


def schedule(*args):
    result = CliRunner().invoke(cli, ["schedule", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def test_crontab_lines(tmp_path, jobs):
    output = schedule("--log-dir", tmp_path / "logs", *jobs)
    comments = [line for line in output.splitlines() if line.startswith("#")]
    lines = [line for line in output.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2
    for line, job in zip(lines, jobs, strict=True):
        fields = line.split(None, 5)
        parse_cron(" ".join(fields[:5]))  # 5 valid cron fields ...
        command = shlex.split(fields[5])  # ... then the command
        assert os.path.isabs(command[0]) and os.access(command[0], os.X_OK)
        assert command[1:5] == [
            "run",
            "-q",
            "--log-file",
            str(tmp_path / "logs" / f"{job.stem}.log"),
        ]
        # No shell redirection: --log-file alone writes the log (see test_cron_line_logs_once)
        assert command[5:] == [str(job)]
    assert lines[0].startswith("30 2 * * * ")
    assert lines[1].startswith("*/15 8-18 * * mon-fri ")
    assert "CHATGPT_ACCESS_TOKEN" not in "\n".join(lines)
    text = "\n".join(comments)
    assert "Credentials are NOT in these lines" in text
    assert "needs CHATGPT_ACCESS_TOKEN" in text  # the first job reads an env var; the second a file
    assert text.count("#   needs ") == 1


def test_percent_is_escaped_for_cron(tmp_path):
    job = load_job(write_job(tmp_path, "p", kind="backup chatgpt", db="a.db", schedule="@daily"))
    text = crontab_text([job], log_dir=tmp_path / "100%")
    [line] = [line for line in text.splitlines() if line.startswith("0 0 * * *")]
    assert "100\\%" in line and "100%" not in line.replace("\\%", "")


def test_job_without_schedule_is_refused(tmp_path):
    path = write_job(tmp_path, kind="backup chatgpt", db="a.db")
    result = CliRunner().invoke(cli, ["schedule", str(path)])
    assert result.exit_code == 2
    assert "no 'schedule' key" in result.output


@pytest.mark.slow
def test_systemd_units(tmp_path, jobs):
    out = tmp_path / "units"
    schedule("--systemd", "--output-dir", out, "--log-dir", tmp_path / "logs", *jobs)
    assert sorted(p.name for p in out.iterdir()) == [
        "archiver-nightly.service",
        "archiver-nightly.timer",
        "archiver-often.service",
        "archiver-often.timer",
    ]
    service = configparser.ConfigParser(interpolation=None, strict=False)
    service.read(out / "archiver-nightly.service")
    assert service["Service"]["Type"] == "oneshot"
    exec_start = shlex.split(service["Service"]["ExecStart"])
    assert exec_start == [
        *archiver_command(),
        "run",
        "-q",
        "--log-file",
        str(tmp_path / "logs" / "nightly.log"),
        str(jobs[0]),
    ]
    assert service["Service"]["EnvironmentFile"].startswith("-/")
    assert "Description" in service["Unit"]
    timer = configparser.ConfigParser(interpolation=None, strict=False)
    timer.read(out / "archiver-nightly.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 02:30:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["RandomizedDelaySec"]
    assert timer["Timer"]["Unit"] == "archiver-nightly.service"
    assert timer["Install"]["WantedBy"] == "timers.target"
    often = configparser.ConfigParser(interpolation=None, strict=False)
    often.read(out / "archiver-often.timer")
    assert often["Timer"]["OnCalendar"] == "Mon..Fri *-*-* 08..18:00/15:00"
    text = "".join(p.read_text() for p in out.iterdir())
    assert "CHATGPT_ACCESS_TOKEN=" not in text

    if shutil.which("systemd-analyze") is None:
        return  # verify below only where systemd is installed
    proc = subprocess.run(
        ["systemd-analyze", "verify", *map(str, sorted(out.iterdir()))],
        capture_output=True,
        text=True,
        check=False,
    )
    if "Failed to initialize manager" in proc.stderr or "Failed to connect" in proc.stderr:
        pytest.skip(f"systemd-analyze verify cannot run here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert "Unknown" not in proc.stderr and "ignoring" not in proc.stderr, proc.stderr


def test_systemd_prints_units(tmp_path, jobs):
    output = schedule("--systemd", jobs[0])
    assert "# ---- archiver-nightly.service ----" in output
    assert "# ---- archiver-nightly.timer ----" in output
    assert "[Timer]" in output and "Persistent=true" in output


def test_systemd_refuses_what_it_cannot_express(tmp_path):
    path = write_job(tmp_path, kind="backup chatgpt", db="a.db", schedule="0 0 1 * mon")
    result = CliRunner().invoke(cli, ["schedule", "--systemd", str(path)])
    assert result.exit_code == 2
    assert str(path) in result.output and "EITHER" in result.output
    # crontab says it exactly
    assert CliRunner().invoke(cli, ["schedule", str(path)]).exit_code == 0


@pytest.mark.slow
def test_cron_line_logs_each_error_once_into_a_private_file(tmp_path, monkeypatch):
    """Run the generated crontab command through /bin/sh as cron would: a failing job's error is
    in the log exactly once, the log is 0600, and what cron would mail is that one error."""
    monkeypatch.delenv("NOENV_TOKEN", raising=False)
    job = write_job(
        tmp_path,
        "noenv",
        kind="backup chatgpt",
        db="a.db",
        schedule="0 * * * *",
        token_env="NOENV_TOKEN",
    )
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    text = crontab_text([load_job(job)], log_dir=log_dir)
    [line] = [line for line in text.splitlines() if line.startswith("0 * * * * ")]
    proc = subprocess.run(
        ["/bin/sh", "-c", line.split(None, 5)[5]], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    log_file = log_dir / "noenv.log"
    log_text = log_file.read_text()
    assert log_text.count("no ChatGPT access token") == 1, log_text
    assert "noenv: noenv" not in log_text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert proc.stdout == ""
    assert proc.stderr.count("no ChatGPT access token") == 1, proc.stderr
