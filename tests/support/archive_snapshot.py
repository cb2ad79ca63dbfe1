"""Compare two archives by content: every row of every table that holds archived data, minus
the columns that record *when this archive* did something (they differ between any two runs)
and the rowid alias (it follows the order in which concurrent fetches finished)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

RUN_TIME_COLUMNS = {
    "first_seen_at",
    "archived_at",
    "last_run_at",
    "last_full_at",
    "first_at",
    "last_at",
    "resolved_at",
    "created_at",
    "started_at",
    "finished_at",
    "latency_ms",
    "run_id",
    "deleted_upstream_at",
    "downloaded_at",
    "pk",  # the rowid alias: a storage detail that follows insertion order
}
TABLES = ("conversations", "messages", "attachments", "sync_state", "batch_items")


def snapshot(
    path: str | Path, tables: tuple[str, ...] = TABLES
) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(path)
    try:
        result = {}
        for table in tables:
            columns = [
                row[1]
                for row in db.execute(f"PRAGMA table_info({table})")
                if row[1] not in RUN_TIME_COLUMNS
            ]
            rows = db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        db.close()


def integrity_ok(path: str | Path) -> bool:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def index_complete(path: str | Path) -> bool:
    """The full-text index holds exactly the messages' text (FTS5's integrity-check with rank
    1 compares it with the content table) and no bulk fill is left pending."""
    db = sqlite3.connect(path)
    try:
        db.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        return db.execute("SELECT count(*) FROM messages_fts_pending").fetchone()[0] == 0
    except sqlite3.DatabaseError:
        return False
    finally:
        db.close()
