"""A 429 cool-down seen by one run is remembered, and the next run waits it out or skips."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.cooldown import GAVE_UP_COOLDOWN, honour_cooldown
from archiver.jobs.config import load_job
from archiver.providers.chatgpt import jobs as chatgpt
from archiver.recorder import run_recorded
from archiver.store import open_db
from archiver.store.runs import active_cooldown, recent_runs, set_cooldown
from archiver.transport.http import RetryPolicy
from tests.support.jobhelpers import write_job

TOO_MANY = {"detail": "Too many requests in 1 minute. Try again later."}


def throttled_upstream(httpserver, retry_after: str | None):
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    httpserver.expect_request("/backend-api/conversations").respond_with_json(
        TOO_MANY, status=429, headers=headers
    )
    return httpserver


def run_once_throttled(tmp_path, httpserver, policy=None):
    """One job run whose retry policy (by default) gives up at the first 429 (so the test is
    fast)."""
    job = load_job(
        write_job(
            tmp_path,
            "nightly",
            kind="backup chatgpt",
            db="archive.db",
            base_url=httpserver.url_for("/backend-api"),
            max_rpm=6000,
            no_snapshot=True,
        )
    )
    policy = policy or RetryPolicy(max_throttles=1)
    return job, asyncio.run(
        run_recorded(
            job.db,
            job=job.name,
            kind=job.kind,
            work=lambda db: chatgpt.run_job(db, job, policy=policy),
        )
    )


def seconds_until(until: datetime | None) -> float:
    assert until is not None
    return (until - datetime.now(tz=UTC)).total_seconds()


def test_cooldown_is_remembered_and_the_next_run_skips(tmp_path, httpserver, token_env):
    throttled_upstream(httpserver, "3600")
    job, result = run_once_throttled(tmp_path, httpserver)
    assert result.exit_code == 3 and result.status == "partial"  # stopped by throttling
    db = open_db(job.db)
    assert 3000 < seconds_until(active_cooldown(db, "chatgpt", "")) <= 3600
    calls = len(httpserver.log)

    # The next cron run: the cool-down is far longer than max_cooldown_wait, so it skips.
    result = CliRunner().invoke(cli, ["run", str(job.path)])
    assert result.exit_code == 0, result.output
    assert "cooling down" in result.output and "until 20" in result.output
    assert len(httpserver.log) == calls  # the account was left alone
    newest = recent_runs(db)[0]
    assert (newest["status"], newest["exit_code"]) == ("cooldown", 0)

    # The direct command honours it too, unless told otherwise.
    direct = ["backup", "chatgpt", "--no-snapshot", "--max-rpm", "6000", str(job.db)]
    env = {"CHATGPT_BASE_URL": httpserver.url_for("/backend-api")}
    result = CliRunner().invoke(cli, direct, env=env)
    assert result.exit_code == 0 and "cooling down" in result.output
    assert len(httpserver.log) == calls
    httpserver.clear()  # now the upstream refuses the token at once: no 1-hour throttle wait
    httpserver.expect_request("/backend-api/conversations").respond_with_json({}, status=401)
    result = CliRunner().invoke(cli, [*direct[:2], "--ignore-cooldown", *direct[2:]], env=env)
    assert result.exit_code == 2 and "refused" in result.output
    assert len(httpserver.log) == 1  # it did call


def test_giving_up_on_429s_without_retry_after_still_rests_the_account(
    tmp_path, httpserver, token_env
):
    throttled_upstream(httpserver, None)
    job, result = run_once_throttled(tmp_path, httpserver)
    assert result.exit_code == 3  # throttled beyond the retry budget: partial, not failed
    remaining = seconds_until(active_cooldown(open_db(job.db), "chatgpt", ""))
    assert GAVE_UP_COOLDOWN - 120 < remaining <= GAVE_UP_COOLDOWN


def test_short_cooldown_is_waited_out(tmp_path, backup_job, token_env):
    db = open_db(tmp_path / "archive.db")
    set_cooldown(db, "chatgpt", "", datetime.now(tz=UTC) + timedelta(seconds=0.2), "test")
    result = CliRunner().invoke(cli, ["run", str(backup_job)])
    assert result.exit_code == 0, result.output
    assert recent_runs(db)[0]["status"] == "ok"
    assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 1


@pytest.mark.parametrize(("ahead", "max_wait", "waits"), [(100, 300, True), (100, 50, False)])
def test_honour_cooldown_waits_only_up_to_max_wait(tmp_path, fake_clock, ahead, max_wait, waits):
    db = open_db(tmp_path / "a.db")
    set_cooldown(db, "chatgpt", "", fake_clock.wall() + timedelta(seconds=ahead), "test")
    started = fake_clock.now()
    skip = asyncio.run(honour_cooldown(db, "chatgpt", "", max_wait))
    if waits:
        assert skip is None
        # Whole seconds: the cool-down is stored to the microsecond, virtual time is exact.
        assert fake_clock.slept == [pytest.approx(ahead, abs=1e-3)]
        assert fake_clock.now() - started == pytest.approx(ahead, abs=1e-3)
    else:
        assert skip is not None and skip.exit_code == 0 and skip.run_status == "cooldown"
        assert fake_clock.slept == []


@pytest.mark.parametrize(
    ("provider", "env"),
    [
        ("bing", {"BING_COOKIE": "c-sEcReT", "BING_BASE_URL": "http://127.0.0.1:{port}"}),
        (
            "copilot",
            {"COPILOT_ACCESS_TOKEN": "t-sEcReT", "COPILOT_BASE_URL": "http://127.0.0.1:{port}"},
        ),
    ],
)
def test_every_provider_honours_a_stored_cooldown(tmp_path, provider, env):
    from tests.support.transport import free_port

    port = free_port()  # any call would fail: a skip must make none
    env = {k: v.format(port=port) for k, v in env.items()}
    if provider == "bing":
        env["SYDNEY_BASE_URL"] = env["BING_BASE_URL"]
    db_path = tmp_path / "archive.db"
    until = datetime.now(tz=UTC) + timedelta(hours=2)
    set_cooldown(open_db(db_path), provider, "", until, "429 Retry-After 7200")

    direct = CliRunner().invoke(cli, ["backup", provider, str(db_path)], env=env)
    assert direct.exit_code == 0, direct.output
    assert "cooling down" in direct.output and "until 20" in direct.output
    job = write_job(tmp_path, "nightly", kind=f"backup {provider}", db="archive.db")
    scheduled = CliRunner().invoke(cli, ["run", str(job)], env=env)
    assert scheduled.exit_code == 0 and "cooling down" in scheduled.output
    assert [r["status"] for r in recent_runs(open_db(db_path))] == ["cooldown", "cooldown"]

    forced = CliRunner().invoke(
        cli, ["backup", provider, "--ignore-cooldown", "--max-wait", "0", str(db_path)], env=env
    )
    assert forced.exit_code not in (0, 130), forced.output  # it did try the (closed) upstream
    assert "cooling down" not in forced.output and "Traceback" not in forced.output


def test_a_batch_honours_the_accounts_cooldown(tmp_path):
    from tests.support.transport import free_port

    env = {
        "CHATGPT_ACCESS_TOKEN": "t-sEcReT",
        "CHATGPT_BASE_URL": f"http://127.0.0.1:{free_port()}/backend-api",
    }
    prompts = tmp_path / "p.csv"
    prompts.write_text("prompt\nhello\n", encoding="utf-8")
    db_path = tmp_path / "archive.db"
    until = datetime.now(tz=UTC) + timedelta(hours=3)
    set_cooldown(open_db(db_path), "chatgpt", "", until, "429 model_cap_exceeded")

    result = CliRunner().invoke(cli, ["batch", str(db_path), str(prompts)], env=env)
    assert result.exit_code == 0, result.output
    assert "cooling down" in result.output
    job = write_job(tmp_path, "prompts", kind="batch", db="archive.db", csv=str(prompts))
    scheduled = CliRunner().invoke(cli, ["run", str(job)], env=env)
    assert scheduled.exit_code == 0 and "cooling down" in scheduled.output
    assert open_db(db_path).execute("SELECT count(*) FROM batch_items").fetchone()[0] == 0
