"""``archiver run`` end to end against a tiny fake upstream."""

from __future__ import annotations

import json
import stat

from click.testing import CliRunner

from archiver.cli import cli
from archiver.providers.bing.fake.config import BingFakeConfig
from archiver.store import open_db
from archiver.store.runs import recent_runs
from tests.support.fakes import fake_config
from tests.support.jobhelpers import CONVERSATION_ID, write_job


def test_run_job_file_records_a_run(tmp_path, backup_job, token_env):
    log_file = tmp_path / "logs" / "nightly.log"
    result = CliRunner().invoke(cli, ["run", "--log-file", str(log_file), str(backup_job)])
    assert result.exit_code == 0, result.output
    assert "nightly: chatgpt: listed 1" in result.output

    db = open_db(tmp_path / "archive.db")  # the relative db resolved against the job's directory
    assert [r[0] for r in db.execute("SELECT id FROM conversations")] == [CONVERSATION_ID]
    [run] = recent_runs(db)
    assert run["job"] == "nightly"
    assert run["kind"] == "backup chatgpt"
    assert run["status"] == "ok"
    assert run["exit_code"] == 0
    assert run["finished_at"] >= run["started_at"]
    assert run["error"] is None
    counts = json.loads(run["counts_json"])
    assert counts["new"] == 1 and counts["listed"] == 1 and counts["failed"] == 0

    text = log_file.read_text()
    assert "job nightly (backup chatgpt) starting" in text
    assert "job nightly: ok, exit 0" in text
    assert token_env not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_second_run_is_incremental_and_recorded_again(tmp_path, backup_job, token_env):
    runner = CliRunner()
    assert runner.invoke(cli, ["run", "-q", str(backup_job)]).exit_code == 0
    result = runner.invoke(cli, ["run", "-q", str(backup_job)])
    assert result.exit_code == 0
    assert result.output == ""  # -q: nothing to say when all went well
    runs = recent_runs(open_db(tmp_path / "archive.db"))
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert json.loads(runs[0]["counts_json"])["unchanged"] == 1


def test_failed_job_does_not_stop_the_next_and_worst_code_wins(tmp_path, backup_job, token_env):
    bad = write_job(tmp_path, "bad", kind="backup chatgpt", db="x.db", colour="blue")
    result = CliRunner().invoke(cli, ["run", str(bad), str(backup_job)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "'colour'" in result.output
    assert "nightly: chatgpt: listed 1" in result.output  # the good job still ran
    assert not (tmp_path / "x.db").exists()


def test_missing_token_is_a_recorded_config_failure(tmp_path, backup_job, monkeypatch):
    monkeypatch.delenv("CHATGPT_ACCESS_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["run", str(backup_job)])
    assert result.exit_code == 2
    assert "CHATGPT_ACCESS_TOKEN" in result.output
    [run] = recent_runs(open_db(tmp_path / "archive.db"))
    assert run["status"] == "failed" and run["exit_code"] == 2
    assert "CHATGPT_ACCESS_TOKEN" in run["error"]


def test_token_file_must_be_private(tmp_path, chatgpt_upstream, monkeypatch):
    monkeypatch.delenv("CHATGPT_ACCESS_TOKEN", raising=False)
    token_file = tmp_path / "token"
    token_file.write_text("file-token-value\n")
    token_file.chmod(0o644)
    job = write_job(
        tmp_path,
        kind="backup chatgpt",
        db="archive.db",
        base_url=chatgpt_upstream.url_for("/backend-api"),
        token_file="token",  # relative to the job file
        max_rpm=6000,
        no_snapshot=True,
    )
    result = CliRunner().invoke(cli, ["run", str(job)])
    assert result.exit_code == 2
    assert "chmod 600" in result.output
    assert "file-token-value" not in result.output
    token_file.chmod(0o600)
    assert CliRunner().invoke(cli, ["run", str(job)]).exit_code == 0
    sent = [req.headers.get("Authorization") for req, _ in chatgpt_upstream.log]
    assert "Bearer file-token-value" in sent


def test_direct_backup_command_is_recorded(tmp_path, chatgpt_upstream, token_env, monkeypatch):
    monkeypatch.setenv("CHATGPT_BASE_URL", chatgpt_upstream.url_for("/backend-api"))
    db_path = tmp_path / "direct.db"
    result = CliRunner().invoke(
        cli, ["backup", "chatgpt", "-q", "--no-snapshot", "--max-rpm", "6000", str(db_path)]
    )
    assert result.exit_code == 0, result.output
    [run] = recent_runs(open_db(db_path))
    assert (run["job"], run["kind"], run["status"]) == ("backup chatgpt", "backup chatgpt", "ok")
    assert json.loads(run["counts_json"])["new"] == 1


def test_full_every_days_walks_everything_when_due(tmp_path, chatgpt_upstream, token_env):
    job = write_job(
        tmp_path,
        kind="backup chatgpt",
        db="archive.db",
        base_url=chatgpt_upstream.url_for("/backend-api"),
        full_every_days=7,
        max_rpm=6000,
        no_snapshot=True,
    )
    assert CliRunner().invoke(cli, ["run", str(job)]).exit_code == 0
    db = open_db(tmp_path / "archive.db")
    full_times = [r[0] for r in db.execute("SELECT last_full_at FROM sync_state")]
    assert full_times and all(full_times)  # never reconciled before: the first run was full
    assert CliRunner().invoke(cli, ["run", str(job)]).exit_code == 0
    assert [r[0] for r in db.execute("SELECT last_full_at FROM sync_state")] == full_times


def test_bing_job_against_the_emulator(tmp_path, monkeypatch):
    from archiver.emulator import running_emulator

    monkeypatch.setenv("BING_COOKIE", BingFakeConfig().cookie)
    with running_emulator(fake_config(bing_chats=3, chatgpt_conversations=0)) as emulator:
        job = write_job(
            tmp_path,
            "bing",
            kind="backup bing",
            db="archive.db",
            base_url=emulator.base_url,
            sydney_base_url=emulator.base_url,
            max_rpm=6000,
        )
        result = CliRunner().invoke(cli, ["run", str(job)])
    assert result.exit_code == 0, result.output
    [run] = recent_runs(open_db(tmp_path / "archive.db"))
    assert (run["job"], run["kind"], run["status"]) == ("bing", "backup bing", "ok")
    assert json.loads(run["counts_json"])["new"] == 3


def test_runs_command_shows_history_and_cooldowns(tmp_path, backup_job, token_env):
    from datetime import UTC, datetime, timedelta

    from archiver.store.runs import set_cooldown

    runner = CliRunner()
    assert runner.invoke(cli, ["run", "-q", str(backup_job)]).exit_code == 0
    db_path = tmp_path / "archive.db"
    until = datetime.now(tz=UTC) + timedelta(hours=2)
    set_cooldown(open_db(db_path), "chatgpt", "me", until, "429 model_cap_exceeded")
    set_cooldown(open_db(db_path), "bing", "old", until - timedelta(days=1), "long over")

    shown = runner.invoke(cli, ["runs", str(db_path)])
    assert shown.exit_code == 0, shown.output
    assert "nightly" in shown.output and " ok " in shown.output and "new 1" in shown.output
    assert "cool-down: chatgpt (me)" in shown.output and "model_cap_exceeded" in shown.output
    assert "long over" not in shown.output  # a cool-down that ended is not in force

    as_json = json.loads(runner.invoke(cli, ["runs", str(db_path), "--json"]).output)
    assert [r["job"] for r in as_json["runs"]] == ["nightly"]
    assert [c["account"] for c in as_json["cooldowns"]] == ["me"]
    assert runner.invoke(cli, ["runs", str(db_path), "--job", "other"]).output.strip() == (
        "no runs recorded yet\ncool-down: chatgpt (me) until "
        + as_json["cooldowns"][0]["until"]
        + ": 429 model_cap_exceeded"
    )
