"""Filling the full-text index in bulk, crash-safely (schema.sql migration 6).

Row-by-row triggers make FTS5 write one small index segment per statement and merge them over
and over; a bulk import instead marks "messages after pk N are not indexed yet"
(``messages_fts_pending``), loads, then indexes every new row with ONE statement and removes
the mark in the same transaction. A run killed in between leaves the mark: the next run that
writes (every writer goes through ``run_recorded``, under the database lock) finishes the job
before doing anything else, so the index never stays incomplete and never indexes a row twice.

While the mark stands, the insert trigger is dropped as well (in the mark's transaction) and
made again when the mark goes (in that transaction): under the mark it indexes nothing anyway,
but SQLite still runs it, with its look-up of the mark, for every row, which cost a third of
the time of inserting an export's rows. The mark is what says the trigger must come back.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

from archiver.store.db import transaction

# The insert trigger exactly as schema.sql's migration 6 makes it (a test compares the two):
# restored when the mark goes. IF NOT EXISTS is not part of the stored definition.
_INSERT_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages\n"
    "WHEN new.pk <= coalesce((SELECT min(since_pk) FROM messages_fts_pending), new.pk) BEGIN\n"
    "    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);\n"
    "END"
)


def pending_since(db: sqlite_utils.Database) -> int | None:
    """The mark's pk, or None when the index is complete (or the table predates it)."""
    try:
        row = db.execute("SELECT min(since_pk) FROM messages_fts_pending").fetchone()
    except sqlite3.OperationalError:  # an archive opened without migrations
        return None
    return None if row is None else row[0]


def start_bulk_index(conn: sqlite3.Connection) -> int:
    """Inside the caller's transaction: mark every message inserted from now on as not
    indexed yet; returns the mark. Committed (or rolled back) with the rows it covers."""
    existing = conn.execute("SELECT min(since_pk) FROM messages_fts_pending").fetchone()[0]
    if existing is not None:
        return int(existing)  # an unfinished mark stays the oldest one
    since = conn.execute("SELECT coalesce(max(pk), 0) FROM messages").fetchone()[0]
    conn.execute("INSERT INTO messages_fts_pending (since_pk) VALUES (?)", [since])
    conn.execute("DROP TRIGGER IF EXISTS messages_ai")
    return int(since)


def index_some(conn: sqlite3.Connection, rows: int) -> int:
    """Inside the caller's transaction: index the next ``rows`` messages (by pk) the mark
    covers and move the mark past them; returns how many were indexed. Lets a bulk import
    fill the index while it waits for its reader, in large batches."""
    since = conn.execute("SELECT min(since_pk) FROM messages_fts_pending").fetchone()[0]
    if since is None:
        return 0
    last = conn.execute("SELECT max(pk) FROM messages").fetchone()[0] or 0
    upto = min(last, since + rows)
    if upto <= since:
        return 0
    cursor = conn.execute(
        "INSERT INTO messages_fts (rowid, text) SELECT pk, text FROM messages "
        "WHERE pk > ? AND pk <= ?",
        [since, upto],
    )
    conn.execute("UPDATE messages_fts_pending SET since_pk = ?", [upto])
    return max(cursor.rowcount, 0)


def finish_bulk_index(db: sqlite_utils.Database) -> int:
    """Index every message the mark covers, remove the mark and restore the insert trigger,
    atomically; returns how many rows were indexed (0 when there was no mark)."""
    with transaction(db) as conn:
        since = conn.execute("SELECT min(since_pk) FROM messages_fts_pending").fetchone()[0]
        if since is None:
            return 0
        cursor = conn.execute(
            "INSERT INTO messages_fts (rowid, text) SELECT pk, text FROM messages WHERE pk > ?",
            [since],
        )
        conn.execute("DELETE FROM messages_fts_pending")
        conn.execute(_INSERT_TRIGGER)
    return max(cursor.rowcount, 0)


def repair_index(db: sqlite_utils.Database) -> int:
    """Finish an index a crashed bulk import left unfinished (cheap when there is none).
    Also the case no run of ours leaves: the insert trigger gone without a mark (the mark
    deleted by hand, or finished by an archiver that did not drop the trigger): then which
    rows are missing is unknown, so the trigger is restored and the index rebuilt whole."""
    if pending_since(db) is not None:
        return finish_bulk_index(db)
    if _has_insert_trigger(db):
        return 0
    with transaction(db) as conn:
        conn.execute(_INSERT_TRIGGER)
        conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])


def _has_insert_trigger(db: sqlite_utils.Database) -> bool:
    try:
        row = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_ai'"
        ).fetchone()
        has_fts = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'"
        ).fetchone()
    except sqlite3.OperationalError:
        return True
    return row is not None or has_fts is None  # no index at all: nothing to repair here
