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


class Hang:
    """A route handler that holds the request until released, and says when one arrived."""

    def __init__(self, answer: Response) -> None:
        self.answer = answer
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, _request: object) -> Response:
        self.arrived.set()
        self.release.wait(20)
        return self.answer


def chatgpt_env(httpserver) -> dict[str, str]:
    return {
        **os.environ,
        "CHATGPT_ACCESS_TOKEN": "t",
        "CHATGPT_BASE_URL": httpserver.url_for("/backend-api"),
    }


def terminated(args: list[str], env: dict[str, str], hang: Hang, *, sigint_ignored: bool):
    """Run ``archiver ARGS``, send it SIGTERM once it is waiting on the upstream; its exit
    code and output."""
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=ignore_sigint if sigint_ignored else None,
    )
    try:
        assert hang.arrived.wait(30), "the command never called the upstream"
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        hang.release.set()
        if process.poll() is None:
            process.kill()
    return process.returncode, out.decode(errors="replace")


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_sigterm_interrupts_a_batch_cleanly(tmp_path, httpserver, sigint):
    hang = Hang(Response("{}", status=500))
    for path in ("/backend-api/conversation", "/backend-api/f/conversation"):
        httpserver.expect_request(path, method="POST").respond_with_handler(hang)
    httpserver.expect_request("/backend-api/sentinel/chat-requirements").respond_with_json({})
    csv = tmp_path / "p.csv"
    csv.write_text("prompt\nhello\n")
    db_path = tmp_path / "a.db"
    args = ["batch", str(db_path), str(csv), "--max-rpm", "6000"]
    code, out = terminated(args, chatgpt_env(httpserver), hang, sigint_ignored=sigint == "ignored")
    assert code == 130, out
    db = open_db(db_path)
    assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert db.execute("SELECT status FROM batch_runs").fetchall() == [("interrupted",)]


@pytest.mark.parametrize("command", ["backup", "run"])
def test_sigterm_stops_a_backup_whose_sigint_is_ignored(tmp_path, httpserver, command):
    hang = Hang(Response('{"items": [], "total": 0}', content_type="application/json"))
    httpserver.expect_request("/backend-api/conversations").respond_with_handler(hang)
    db_path = tmp_path / "a.db"
    args = ["backup", "chatgpt", str(db_path), "--no-snapshot"]
    if command == "run":  # a job file, as cron or a script runs it
        job = tmp_path / "nightly.toml"
        job.write_text(
            f'kind = "backup chatgpt"\ndb = "{db_path}"\nno_snapshot = true\n'
            f'base_url = "{httpserver.url_for("/backend-api")}"\n'
        )
        args = ["run", str(job)]
    code, out = terminated(args, chatgpt_env(httpserver), hang, sigint_ignored=True)
    assert code == 130, out
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
