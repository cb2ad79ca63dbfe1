"""A run killed with kill -9 leaves its row 'running'; the next run marks it interrupted."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.store import open_db
from archiver.store.runs import recent_runs

pytestmark = pytest.mark.slow

# A run that dies mid-way (kill -9): it holds the lock, writes its 'running' row, then waits.
DYING_RUN = textwrap.dedent(
    """
    import sys
    from archiver.store import open_db
    from archiver.store.lock import database_lock
    from archiver.store.runs import start_run
    with database_lock(sys.argv[1]):
        start_run(open_db(sys.argv[1]), "nightly", "backup chatgpt")
        print("running", flush=True)
        sys.stdin.read()
    """
)


def test_killed_run_is_marked_interrupted_by_the_next_run(tmp_path, backup_job, token_env):
    db_path = tmp_path / "archive.db"
    dying = subprocess.Popen(
        [sys.executable, "-c", DYING_RUN, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert dying.stdout is not None and dying.stdout.readline().strip() == "running"
    dying.kill()  # SIGKILL: no chance to finish its row
    dying.wait(timeout=10)
    assert recent_runs(open_db(db_path))[0]["status"] == "running"  # left as is until a run

    result = CliRunner().invoke(cli, ["run", "-q", str(backup_job)])
    assert result.exit_code == 0, result.output
    newest, killed = recent_runs(open_db(db_path))
    assert killed["status"] == "interrupted"
    assert killed["finished_at"] is None
    assert "killed" in killed["error"]
    assert newest["status"] == "ok"
