"""Smaller list: a batch against a server that is down stops at the first row (rows stay
pending, not failed) and says what to do; failed rows point at --retry-failed."""

from __future__ import annotations

from click.testing import CliRunner

from archiver.cli import cli
from archiver.store import open_db
from tests.support.transport import free_port


def test_an_unreachable_upstream_stops_the_batch(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("prompt\none\ntwo\nthree\n")
    db_path = tmp_path / "a.db"
    env = {
        "CHATGPT_ACCESS_TOKEN": "t",
        "CHATGPT_BASE_URL": f"http://127.0.0.1:{free_port()}/backend-api",
    }
    args = ["batch", str(db_path), str(csv), "--max-attempts", "1", "--concurrency", "1"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code != 0
    assert "unreachable" in result.output and "run the same command again" in result.output
    statuses = [r[0] for r in open_db(db_path).execute("SELECT status FROM batch_items")]
    assert "failed" not in statuses and statuses.count("pending") == 3
