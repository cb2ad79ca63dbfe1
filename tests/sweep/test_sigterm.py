"""Finding 12: SIGTERM stops a batch like Ctrl-C (runs and batch_runs rows 'interrupted',
exit 130), and a batch_runs row left 'running' by a killed run is repaired like runs.

Issue 27: SIGTERM is handled on its own, also where SIGINT was inherited as ignored (every
background job of a shell script: ``archiver backup ... &`` then ``kill``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from werkzeug import Response

from archiver.store import open_db
from archiver.store.runs import mark_stale_runs

pytestmark = pytest.mark.slow


def ignore_sigint() -> None:
    """What a shell does to the background jobs of a script (no job control)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def terminate_when_called(process: subprocess.Popen, arrived: threading.Event) -> str:
    assert arrived.wait(30), "the command never called the upstream"
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    return out.decode(errors="replace")


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_sigterm_interrupts_a_batch_cleanly(tmp_path, httpserver, sigint):
    release = threading.Event()
    arrived = threading.Event()

    def hang(_request):
        arrived.set()
        release.wait(20)
        return Response("{}", status=500)

    httpserver.expect_request("/backend-api/conversation", method="POST").respond_with_handler(hang)
    httpserver.expect_request("/backend-api/f/conversation", method="POST").respond_with_handler(
        hang
    )
    httpserver.expect_request("/backend-api/sentinel/chat-requirements").respond_with_json({})
    csv = tmp_path / "p.csv"
    csv.write_text("prompt\nhello\n")
    db_path = tmp_path / "a.db"
    env = {
        **os.environ,
        "CHATGPT_ACCESS_TOKEN": "t",
        "CHATGPT_BASE_URL": httpserver.url_for("/backend-api"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", "batch", str(db_path), str(csv), "--max-rpm", "6000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=ignore_sigint if sigint == "ignored" else None,
    )
    try:
        out = terminate_when_called(process, arrived)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out
    db = open_db(db_path)
    assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert db.execute("SELECT status FROM batch_runs").fetchall() == [("interrupted",)]


@pytest.mark.parametrize("command", ["backup", "run"])
def test_sigterm_stops_a_backup_whose_sigint_is_ignored(tmp_path, httpserver, command):
    release = threading.Event()
    arrived = threading.Event()

    def hang(_request):
        arrived.set()
        release.wait(20)
        return Response('{"items": [], "total": 0}', status=200, content_type="application/json")

    httpserver.expect_request("/backend-api/conversations").respond_with_handler(hang)
    db_path = tmp_path / "a.db"
    env = {
        **os.environ,
        "CHATGPT_ACCESS_TOKEN": "t",
        "CHATGPT_BASE_URL": httpserver.url_for("/backend-api"),
    }
    args = ["backup", "chatgpt", str(db_path), "--no-snapshot"]
    if command == "run":  # a job file, as cron or a script runs it
        job = tmp_path / "nightly.toml"
        job.write_text(
            f'kind = "backup chatgpt"\ndb = "{db_path}"\nno_snapshot = true\n'
            f'base_url = "{httpserver.url_for("/backend-api")}"\n'
        )
        args = ["run", str(job)]
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=ignore_sigint,
    )
    try:
        out = terminate_when_called(process, arrived)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out
    db = open_db(db_path)
    assert db.execute("SELECT status, exit_code FROM runs").fetchall() == [("interrupted", 130)]


def test_stale_batch_runs_are_repaired(tmp_path):
    db = open_db(tmp_path / "a.db")
    db.execute(
        "INSERT INTO batch_runs (provider, csv_path, csv_sha256, started_at, status) "
        "VALUES ('chatgpt', 'p.csv', 'x', '2026-01-01T00:00:00Z', 'running')"
    )
    db.conn.commit()
    mark_stale_runs(db)
    assert db.execute("SELECT status FROM batch_runs").fetchone()[0] == "interrupted"
