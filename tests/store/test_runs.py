"""Run history and cool-downs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from archiver.store import open_db
from archiver.store.runs import (
    active_cooldown,
    finish_run,
    mark_stale_runs,
    recent_runs,
    set_cooldown,
    start_run,
)


def test_start_and_finish(tmp_path):
    db = open_db(tmp_path / "a.db")
    run_id = start_run(db, "nightly", "backup chatgpt")
    assert recent_runs(db)[0]["status"] == "running"
    finish_run(db, run_id, status="partial", exit_code=3, counts={"new": 2}, error="x: 500")
    [row] = recent_runs(db)
    assert row["status"] == "partial" and row["exit_code"] == 3
    assert json.loads(row["counts_json"]) == {"new": 2}
    assert row["error"] == "x: 500" and row["finished_at"]


def test_mark_stale_runs_touches_only_running_rows(tmp_path):
    db = open_db(tmp_path / "a.db")
    done = start_run(db, "a", "k")
    finish_run(db, done, status="ok", exit_code=0)
    start_run(db, "b", "k")
    assert mark_stale_runs(db) == 1
    assert [r["status"] for r in recent_runs(db)] == ["interrupted", "ok"]


def test_cooldown_active_only_in_the_future(tmp_path):
    db = open_db(tmp_path / "a.db")
    now = datetime.now(tz=UTC)
    assert active_cooldown(db, "chatgpt", "") is None
    set_cooldown(db, "chatgpt", "", now + timedelta(hours=1), "429")
    until = active_cooldown(db, "chatgpt", "")
    assert until is not None and abs((until - now).total_seconds() - 3600) < 60
    assert active_cooldown(db, "chatgpt", "team") is None  # per account
    assert active_cooldown(db, "chatgpt", "", now=now + timedelta(hours=2)) is None
    set_cooldown(db, "chatgpt", "", now - timedelta(seconds=1), "old")  # latest replaces
    assert active_cooldown(db, "chatgpt", "") is None
