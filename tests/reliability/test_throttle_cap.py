"""Finding 1: a Retry-After longer than --max-wait stops the run at once (exit 3), stores the
cool-down so cron skips until then, and says when to come back. Same for Bing and batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from werkzeug import Response

from archiver.cli import cli
from archiver.errors import ThrottledUntil
from archiver.store import open_db
from archiver.store.runs import active_cooldown, recent_runs
from tests.support.fake_chatgpt import TOKEN, FakeChatGPT

LONG = "99999"


def throttle(retry_after: str) -> Response:
    return Response(
        '{"detail": "Too many requests"}',
        status=429,
        headers={"Retry-After": retry_after},
        content_type="application/json",
    )


@pytest.fixture
def fake(httpserver):
    upstream = FakeChatGPT()
    upstream.base_url = upstream.install(httpserver)
    upstream.add("c1", 1_700_000_000)
    return upstream


def test_throttled_until_says_when_to_come_back():
    stop = ThrottledUntil(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), "HTTP 429")
    assert stop.exit_code == 3
    assert "come back after 2030-01-02 03:04:05 UTC" in str(stop)
    assert stop.until.tzinfo is UTC and stop.reason == "HTTP 429"


def test_a_long_retry_after_stops_the_backup_and_records_the_cooldown(tmp_path, fake):
    fake.faults["/backend-api/conversations"].append(throttle(LONG))
    db_path = tmp_path / "a.db"
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.base_url}
    args = ["backup", "chatgpt", str(db_path), "--no-snapshot", "--max-rpm", "6000"]
    asked = datetime.now(tz=UTC)
    result = CliRunner().invoke(cli, args, env=env)
    answered = datetime.now(tz=UTC)
    assert result.exit_code == 3, result.output
    assert "come back after" in result.output and "--max-wait" in result.output
    assert len(fake.requests("/conversations$")) == 1  # stopped at once, no retry
    db = open_db(db_path)
    until = active_cooldown(db, "chatgpt", "")
    # Retry-After (LONG seconds) from when the 429 came: bounded by the clock before and after.
    rest = timedelta(seconds=int(LONG))
    assert until is not None and asked + rest - timedelta(seconds=1) <= until <= answered + rest
    # The next (cron) run skips instead of calling.
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0 and "cooling down" in result.output
    assert len(fake.requests("/conversations$")) == 1
    assert recent_runs(db)[0]["status"] == "cooldown"


def test_a_short_retry_after_is_waited_out(tmp_path, fake):
    fake.faults["/backend-api/conversations"].append(throttle("0"))
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.base_url}
    args = ["backup", "chatgpt", str(tmp_path / "a.db"), "--no-snapshot", "--max-rpm", "6000"]
    result = CliRunner().invoke(cli, [*args, "--max-wait", "5"], env=env)
    assert result.exit_code == 0, result.output


def test_bing_backup_stops_on_a_long_retry_after(tmp_path, httpserver):
    httpserver.expect_request("/turing/conversation/chats").respond_with_response(throttle(LONG))
    env = {
        "BING_COOKIE": "_U=secret-cookie",
        "BING_BASE_URL": httpserver.url_for(""),
        "SYDNEY_BASE_URL": httpserver.url_for(""),
    }
    db_path = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["backup", "bing", str(db_path), "--max-rpm", "6000"], env=env)
    assert result.exit_code == 3, result.output
    assert "come back after" in result.output
    assert active_cooldown(open_db(db_path), "bing", "") is not None
