"""``remote_batches`` and the rows waiting in them (schema.sql migration 7). Every write is its
own short transaction, committed before the next request: a run killed at any moment leaves
each id the server named recorded, and each row either waiting in its batch or not.

A batch row is *open* until it is collected (its rows recorded) or abandoned (it never got an
input upstream: its rows went back to ``pending``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archiver.batch.remote import RemoteStatus
from archiver.batch.store import PENDING, SUBMITTED, ItemKey
from archiver.store import transaction
from archiver.timeutil import utc_now_iso

PREPARING = "preparing"  # rows claimed, nothing named upstream yet
UPLOADED = "uploaded"  # the input exists upstream, the batch not yet
ABANDONED = "abandoned"  # a dead process's batch that never got an input: rows released


@dataclass(frozen=True)
class BatchRow:
    """One ``remote_batches`` row."""

    id: int
    provider: str
    account: str
    run_id: int
    model: str
    requests: int
    input_file_id: str | None
    batch_id: str | None
    status: str


@dataclass(frozen=True)
class StoredItem:
    """A batch item as the database holds it (what a round, or a collect without the CSV,
    is planned from)."""

    key: ItemKey
    run_id: int
    row_number: int
    thread: str | None
    prompt: str
    system: str | None
    status: str
    answer: str | None
    conversation_id: str | None
    message_id: str | None
    remote_batch: int | None


_BATCH_COLUMNS = "id, provider, account, run_id, model, requests, input_file_id, batch_id, status"
_ITEM_COLUMNS = (
    "provider, model, item_key, prompt_hash, run_id, row_number, thread, prompt, system, "
    "status, answer, conversation_id, message_id, remote_batch"
)


def _item(values: Sequence[Any]) -> StoredItem:
    key = ItemKey(values[0], values[1], values[2], values[3])
    return StoredItem(key, *values[4:])


def run_items(db: sqlite_utils.Database, run_id: int) -> list[StoredItem]:
    """Every item of a run, in input order."""
    cursor = db.execute(
        f"SELECT {_ITEM_COLUMNS} FROM batch_items WHERE run_id = ? ORDER BY row_number",
        [run_id],
    )
    return [_item(values) for values in cursor]


def items_in(db: sqlite_utils.Database, batch: int) -> list[StoredItem]:
    """The rows still waiting in batch row ``batch``, in input order."""
    cursor = db.execute(
        f"SELECT {_ITEM_COLUMNS} FROM batch_items WHERE remote_batch = ? AND status = ? "
        "ORDER BY run_id, row_number",
        [batch, SUBMITTED],
    )
    return [_item(values) for values in cursor]


def create(
    db: sqlite_utils.Database,
    *,
    provider: str,
    account: str,
    run_id: int,
    model: str,
    keys: Sequence[ItemKey],
    input_bytes: int,
) -> int:
    """A new batch row holding ``keys`` (marked ``submitted``), in one transaction."""
    now = utc_now_iso()
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO remote_batches (provider, account, run_id, model, requests, "
            "input_bytes, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [provider, account, run_id, model, len(keys), input_bytes, PREPARING, now, now],
        )
        batch = int(cursor.lastrowid or 0)
        for key in keys:
            conn.execute(
                "UPDATE batch_items SET status = ?, remote_batch = ?, started_at = ?, "
                "error = NULL WHERE provider = ? AND model = ? AND item_key = ? "
                "AND prompt_hash = ?",
                [SUBMITTED, batch, now, *key.params()],
            )
    return batch


def record_input_file(db: sqlite_utils.Database, batch: int, file_id: str) -> None:
    with transaction(db) as conn:
        conn.execute(
            "UPDATE remote_batches SET input_file_id = ?, status = ?, updated_at = ? WHERE id = ?",
            [file_id, UPLOADED, utc_now_iso(), batch],
        )


def record_status(db: sqlite_utils.Database, batch: int, status: RemoteStatus) -> None:
    counts = {"total": status.total, "completed": status.completed, "failed": status.failed}
    with transaction(db) as conn:
        conn.execute(
            "UPDATE remote_batches SET batch_id = ?, status = ?, counts_json = ?, "
            "errors_json = ?, raw_json = ?, updated_at = ? WHERE id = ?",
            [
                status.batch_id,
                status.status,
                json.dumps(counts),
                json.dumps(list(status.errors)) if status.errors else None,
                json.dumps(dict(status.raw), ensure_ascii=False),
                utc_now_iso(),
                batch,
            ],
        )


def close(db: sqlite_utils.Database, batch: int, *, status: str | None = None) -> list[ItemKey]:
    """The batch is over for us: the rows still waiting in it (never run) go back to
    ``pending``; returns them. ``status`` replaces the recorded one (``abandoned``)."""
    now = utc_now_iso()
    with transaction(db) as conn:
        released = [
            ItemKey(*row)
            for row in conn.execute(
                "SELECT provider, model, item_key, prompt_hash FROM batch_items "
                "WHERE remote_batch = ? AND status = ?",
                [batch, SUBMITTED],
            )
        ]
        conn.execute(
            "UPDATE batch_items SET status = ?, remote_batch = NULL "
            "WHERE remote_batch = ? AND status = ?",
            [PENDING, batch, SUBMITTED],
        )
        conn.execute(
            "UPDATE remote_batches SET status = coalesce(?, status), collected_at = ?, "
            "updated_at = ? WHERE id = ?",
            [status, now, now, batch],
        )
    return released


def open_batches(
    db: sqlite_utils.Database, provider: str, *, run_id: int | None = None
) -> list[BatchRow]:
    """The provider's open batches, oldest first; with ``run_id``, those holding that run's
    rows (a re-run of the same CSV finds the batches an earlier, killed run submitted)."""
    sql = f"SELECT {_BATCH_COLUMNS} FROM remote_batches WHERE provider = ? AND collected_at IS NULL"
    params: list[Any] = [provider]
    if run_id is not None:
        sql += " AND id IN (SELECT remote_batch FROM batch_items WHERE run_id = ? AND status = ?)"
        params += [run_id, SUBMITTED]
    cursor = db.execute(sql + " ORDER BY id", params)
    return [BatchRow(*values) for values in cursor]


def open_providers(db: sqlite_utils.Database) -> list[str]:
    """Providers with an open batch (what ``--collect`` has to fetch)."""
    cursor = db.execute(
        "SELECT DISTINCT provider FROM remote_batches WHERE collected_at IS NULL ORDER BY provider"
    )
    return [row[0] for row in cursor]


def abandon_unnamed(db: sqlite_utils.Database, provider: str) -> int:
    """Batches a dead process left ``preparing`` (claimed, nothing named upstream): their rows
    go back to ``pending`` (call under the database lock only). Returns the rows released."""
    rows = db.execute(
        "SELECT id FROM remote_batches WHERE provider = ? AND collected_at IS NULL AND status = ?",
        [provider, PREPARING],
    ).fetchall()
    return sum(len(close(db, row[0], status=ABANDONED)) for row in rows)


def ids_of(items: Iterable[StoredItem]) -> list[ItemKey]:
    return [item.key for item in items]
