"""Saving many conversations fast: several per transaction, each still atomic.

A conversation is never half written: each one is saved inside its own SAVEPOINT, released
when it is whole and rolled back alone when it cannot be saved. Many of them share one
transaction, committed every ``batch`` conversations or every ``seconds``, whichever comes
first: a commit costs a WAL append and a lock round, once per batch instead of once per
conversation. A kill -9 loses at most the open batch, which a re-run imports again (unchanged
rows are skipped), so a killed run then re-run gives the same archive as one run.

The full-text index is filled once at the end (store.fts), crash-safely."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from archiver.store import fts
from archiver.store.save import Rows, SaveOutcome, save_in_transaction, saved_as_utf8
from archiver.timeutil import utc_now_iso

DEFAULT_BATCH = 200
DEFAULT_SECONDS = 0.5


class BulkSaver:
    """Use as a context manager; ``save`` each conversation, ``commit`` when the caller needs
    what was saved to be durable (before work that depends on it)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        batch: int = DEFAULT_BATCH,
        seconds: float = DEFAULT_SECONDS,
        keep_newer: bool = True,
    ) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.batch = max(1, batch)
        self.seconds = seconds
        self.keep_newer = keep_newer
        self._open = False
        self._in_batch = 0
        self._began = 0.0
        self._now = ""
        self._marked = False  # the index mark is in the open transaction or committed
        self.commits = 0
        self.insert_seconds = 0.0  # time spent saving (SQLite and binding), commits included
        self.index_seconds = 0.0
        self.indexed = 0

    def __enter__(self) -> BulkSaver:
        self.indexed += fts.repair_index(self.db)  # a crashed run's leftovers first
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and not issubclass(exc_type, Exception):
            # Ctrl-C or a kill: roll the open batch back and leave the index mark for the
            # next run (finishing it could take seconds the user did not want to wait).
            self._rollback()
            return
        # Every conversation in the open batch is whole (savepoints): keep them.
        try:
            self.commit()
        except sqlite3.Error:
            self._rollback()
            if exc_type is None:
                raise
        started = time.perf_counter()
        self.indexed += fts.finish_bulk_index(self.db)
        self.index_seconds += time.perf_counter() - started

    def save(
        self,
        conversation: dict[str, Any],
        message_values: Sequence[Sequence[Any]],
        attachments: list[dict[str, Any]],
    ) -> SaveOutcome:
        """Save one conversation, atomically. An error rolls back this conversation only and
        is raised; the batch goes on."""
        started = time.perf_counter()
        self._begin(started)
        try:
            outcome = saved_as_utf8(self._save, (conversation, message_values, attachments))
        finally:
            self.insert_seconds += time.perf_counter() - started
        self._in_batch += 1
        if self._in_batch >= self.batch or time.perf_counter() - self._began >= self.seconds:
            self.commit()
        return outcome

    def _save(self, rows: Rows) -> SaveOutcome:
        """One conversation in its own savepoint, rolled back alone when it fails."""
        self.conn.execute("SAVEPOINT conversation")
        try:
            outcome = save_in_transaction(
                self.conn, *rows, keep_newer=self.keep_newer, now=self._now, bulk=self._mark
            )
        except BaseException:
            self.conn.execute("ROLLBACK TO conversation")
            self.conn.execute("RELEASE conversation")
            # The mark (and the trigger it dropped) goes with the savepoint when this
            # conversation made it: know whether it is still there.
            self._marked = fts.pending_since(self.db) is not None
            raise
        self.conn.execute("RELEASE conversation")
        return outcome

    def _begin(self, started: float) -> None:
        """Open the batch's transaction unless one is open already."""
        if self._open:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._open = True
        self._began = started
        self._in_batch = 0
        self._now = utc_now_iso()

    def index_while_idle(self, rows: int = 5000) -> bool:
        """Index up to ``rows`` of the messages saved so far (in the open batch's transaction,
        so the index and its mark move with the rows); False when none is left to index. The
        import calls this while its reader has nothing ready, so the final fill is short."""
        if not self._marked:
            return False
        started = time.perf_counter()
        self._begin(started)
        done = fts.index_some(self.conn, rows)
        self.indexed += done
        self.index_seconds += time.perf_counter() - started
        return done > 0

    def _mark(self) -> None:
        """The first conversation that writes rows marks the index as pending (an import
        that writes nothing leaves no trace)."""
        if not self._marked:
            fts.start_bulk_index(self.conn)
            self._marked = True

    def commit(self) -> None:
        if self._open:
            started = time.perf_counter()
            self.conn.execute("COMMIT")
            self._open = False
            self.commits += 1
            self.insert_seconds += time.perf_counter() - started

    def _rollback(self) -> None:
        if self._open:
            self._open = False
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            # The mark went with the batch unless an earlier batch committed it.
            self._marked = fts.pending_since(self.db) is not None
