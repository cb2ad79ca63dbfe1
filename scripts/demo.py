"""`make demo`: archive the bundled emulator into demo.db and show what the archive can answer.

Runs the real commands a user would run, against the emulator on 127.0.0.1 (never a real
account), with the emulator's made-up credentials passed through the environment. What each
provider does here is its own (``Provider.demo``: its package's ``demo.py``), run in registry
order by ``archiver/emulator/demo.py``; this script names no provider."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from archiver.emulator.demo import (
    command,
    heading,
    knob_settings,
    provider_queries,
    run_every_provider,
)

ROOT = Path(__file__).resolve().parents[1]
DB = ROOT / "demo.db"
WORKDIR = ROOT / "demo"  # the inputs the demo writes: prompt CSVs, exports
ARCHIVER = [sys.executable, "-m", "archiver"]
SEED = 1
PORT = 8765  # the port the demo's job files (jobs/demo-*.toml) point at, when it is free


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@contextmanager
def emulator() -> Iterator[str]:
    port = PORT if free(PORT) else 0
    knobs = [word for setting in knob_settings() for word in ("--set", setting)]
    process = subprocess.Popen(
        [*ARCHIVER, "emulator", "--port", str(port), "--seed", str(SEED), *knobs],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("emulator ready "):
            raise SystemExit(f"the emulator did not start: {line!r}")
        yield line.removeprefix("emulator ready ")
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_archiver(args: Sequence[str], env: Mapping[str, str]) -> int:
    """``archiver ARGS`` in a process of its own, ``env`` over this one's environment."""
    return subprocess.run([*ARCHIVER, *args], env={**os.environ, **env}, check=False).returncode


def show(db: sqlite3.Connection, title: str, sql: str) -> None:
    heading(title)
    print(f"  {' '.join(sql.split())}")
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    rows = [[" ".join(("" if v is None else str(v)).split())[:60] for v in row] for row in cursor]
    widths = [
        max(len(n), *(len(r[i]) for r in rows)) if rows else len(n) for i, n in enumerate(names)
    ]
    print("  " + "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def main() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{DB}.files", ignore_errors=True)  # the file store of the last demo
    with emulator() as url:
        print(f"emulator running at {url}")
        run_every_provider(db=DB, workdir=WORKDIR, base_url=url, seed=SEED, invoke=run_archiver)
    heading("Full-text search from the command line")
    command(run_archiver, ["search", DB, '"write-ahead" OR lisbon', "--limit", "3"], env={})

    db = sqlite3.connect(DB)
    show(
        db,
        "Conversations per month",
        "SELECT provider, source, substr(create_time, 1, 7) AS month, count(*) AS conversations "
        "FROM conversations GROUP BY provider, source, month ORDER BY month DESC LIMIT 10",
    )
    show(
        db,
        "The longest conversations (nodes, every branch)",
        "SELECT title, node_count, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id "
        "AND m.on_current_branch) AS on_branch FROM conversations c ORDER BY node_count DESC LIMIT 5",
    )
    show(
        db,
        "One query across every provider",
        "SELECT provider, count(DISTINCT conversation_id) AS conversations, count(*) AS messages, "
        "sum(role = 'user') AS prompts FROM messages JOIN conversations c ON c.id = conversation_id "
        "GROUP BY provider",
    )
    show(
        db,
        "Messages by content type",
        "SELECT content_type, count(*) AS messages FROM messages WHERE content_type IS NOT NULL "
        "GROUP BY content_type ORDER BY messages DESC LIMIT 12",
    )
    show(
        db,
        "Full-text search: 'python'",
        "SELECT c.title, m.role, snippet(messages_fts, 0, '[', ']', '…', 8) AS hit "
        "FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
        "JOIN conversations c ON c.id = m.conversation_id "
        "WHERE messages_fts MATCH 'python' ORDER BY rank LIMIT 5",
    )
    show(
        db,
        "Projects and their conversations",
        "SELECT p.emoji, p.name, count(c.id) AS conversations FROM projects p "
        "LEFT JOIN conversations c ON c.gizmo_id = p.id GROUP BY p.id ORDER BY p.name",
    )
    show(
        db,
        "Files messages point at, by download status (stored in demo.db.files/)",
        "SELECT coalesce(download_status, 'not a file id') AS status, count(*) AS pointers, "
        "count(DISTINCT sha256) AS files, sum(size_bytes) AS bytes FROM attachments "
        "GROUP BY status",
    )
    for title, sql in provider_queries():
        show(db, title, sql)
    heading("Done")
    print(f"  The archive is {DB.name}. Explore it with:")
    print(f"    sqlite3 {DB.name}")
    print(f"    .venv/bin/pip install datasette && .venv/bin/datasette {DB.name} -m metadata.json")


if __name__ == "__main__":
    main()
