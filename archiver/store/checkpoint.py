"""Checkpointing the WAL beside a bulk writer instead of inside its commits.

With automatic checkpoints, the commit that crosses the threshold also copies the WAL into the
database file and fsyncs it: on the 144,000-node import that is ~0.5 s of the writer's time,
and the writer is the busier side. Here the writer's automatic checkpoints are turned off and a
thread with its own connection runs a PASSIVE checkpoint every ``interval`` seconds. A PASSIVE checkpoint never blocks the writer (nor waits for it), and SQLite
releases the GIL while it runs, so the copy happens on another core while the writer goes on.
The thread's last checkpoint runs when the writer is done; the writer's own setting is restored.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils


def _database_file(db: sqlite_utils.Database) -> Path | None:
    row = db.execute("PRAGMA database_list").fetchone()
    return Path(row[2]) if row and row[2] else None


@contextlib.contextmanager
def background_checkpoints(db: sqlite_utils.Database, interval: float = 0.2) -> Iterator[None]:
    """Run the block with the WAL checkpointed by a helper thread (see the module docstring).
    In-memory databases (no WAL) run the block as it is."""
    path = _database_file(db)
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    if path is None or str(mode).lower() != "wal":
        yield
        return
    previous = int(db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    stop = threading.Event()
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)

    def run() -> None:
        try:
            while True:
                stopping = stop.wait(interval)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if stopping:
                    return
        except sqlite3.Error:
            return  # a checkpoint is an optimisation: the writer's data is safe in the WAL

    thread = threading.Thread(target=run, name="archiver-checkpoint", daemon=True)
    db.execute("PRAGMA wal_autocheckpoint = 0")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        conn.close()
        db.execute(f"PRAGMA wal_autocheckpoint = {previous}")
