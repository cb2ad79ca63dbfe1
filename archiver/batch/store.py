"""``batch_runs`` / ``batch_items``: every write is its own short transaction, so a run killed
at any moment leaves each row either recorded (done/failed, with its answer) or not.

Status of an item: ``pending`` → ``running`` (a request is in flight) → ``done`` | ``failed``.
A row left ``running`` by a killed run was never recorded: the next run sends it again. Through
a provider-side batch (``remote.py``) a row is ``submitted`` instead of ``running``: it waits in
its ``remote_batch`` and is never sent again while it waits, whatever the runs in between.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archiver.batch.csvinput import BatchInput, BatchRow
from archiver.store import transaction
from archiver.timeutil import utc_now_iso

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
SUBMITTED = "submitted"


@dataclass(frozen=True)
class ItemKey:
    provider: str
    model: str
    item_key: str
    prompt_hash: str

    def params(self) -> list[str]:
        return [self.provider, self.model, self.item_key, self.prompt_hash]


_WHERE_KEY = "provider = ? AND model = ? AND item_key = ? AND prompt_hash = ?"


@dataclass
class ItemState:
    row: BatchRow
    key: ItemKey
    status: str
    attempts: int
    conversation_id: str | None
    message_id: str | None
    answer: str | None = None  # a done row's: a stateless upstream is sent the earlier turns


@dataclass(frozen=True)
class AnswerFacts:
    """What an API's answer reports beside its text (None where the upstream does not say)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None  # the model that answered: often a snapshot of the one asked
    finish_reason: str | None = None


def token_cost(prompt_tokens: int, completion_tokens: int, prices: tuple[float, float]) -> float:
    """Tokens at prices per million (input, output)."""
    return (prompt_tokens * prices[0] + completion_tokens * prices[1]) / 1_000_000


def start_run(
    db: sqlite_utils.Database,
    provider: str,
    model: str | None,
    batch_input: BatchInput,
    options: dict[str, Any],
) -> int:
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO batch_runs (provider, model, csv_path, csv_sha256, options_json, "
            "started_at, status) VALUES (?, ?, ?, ?, ?, ?, 'running')",
            [
                provider,
                model,
                batch_input.path,
                batch_input.sha256,
                json.dumps(options, sort_keys=True, default=str),  # paths as text
                utc_now_iso(),
            ],
        )
        run_id = cursor.lastrowid
    assert run_id is not None
    return run_id


def finish_run(db: sqlite_utils.Database, run_id: int, status: str) -> None:
    with transaction(db) as conn:
        conn.execute(
            "UPDATE batch_runs SET status = ?, finished_at = ? WHERE id = ?",
            [status, utc_now_iso(), run_id],
        )


def claim_items(
    db: sqlite_utils.Database,
    run_id: int,
    provider: str,
    rows: Sequence[BatchRow],
    *,
    retry_failed: bool,
) -> list[ItemState]:
    """Make every row an item of this run (new rows ``pending``); return their states.

    Rows already ``done`` stay done and are never sent again. ``running`` rows were cut off by
    a killed run and go back to ``pending``; ``failed`` rows do too with ``retry_failed``.
    ``submitted`` rows stay in their provider-side batch."""
    now = utc_now_iso()
    states: list[ItemState] = []
    with transaction(db) as conn:
        for row in rows:
            key = ItemKey(provider, row.model, row.key, row.prompt_hash)
            conn.execute(
                "INSERT INTO batch_items (provider, model, item_key, prompt_hash, run_id, "
                "row_number, thread, prompt, system, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) "
                "ON CONFLICT (provider, model, item_key, prompt_hash) DO UPDATE SET "
                "run_id = excluded.run_id, row_number = excluded.row_number, "
                "thread = excluded.thread",
                [*key.params(), run_id, row.row_number, row.thread, row.prompt, row.system, now],
            )
            reset = (RUNNING, FAILED) if retry_failed else (RUNNING,)
            conn.execute(
                f"UPDATE batch_items SET status = 'pending' WHERE {_WHERE_KEY} "
                f"AND status IN ({', '.join('?' * len(reset))})",
                [*key.params(), *reset],
            )
            status, attempts, conversation_id, message_id, answer = conn.execute(
                "SELECT status, attempts, conversation_id, message_id, answer FROM batch_items "
                f"WHERE {_WHERE_KEY}",
                key.params(),
            ).fetchone()
            states.append(
                ItemState(row, key, status, attempts, conversation_id, message_id, answer)
            )
    return states


def mark_running(db: sqlite_utils.Database, key: ItemKey) -> None:
    with transaction(db) as conn:
        conn.execute(
            f"UPDATE batch_items SET status = 'running', started_at = ?, error = NULL "
            f"WHERE {_WHERE_KEY}",
            [utc_now_iso(), *key.params()],
        )


def mark_pending(db: sqlite_utils.Database, key: ItemKey, attempts: int) -> None:
    """The run stopped (quota, auth) before this row got an answer: not the row's fault."""
    with transaction(db) as conn:
        conn.execute(
            f"UPDATE batch_items SET status = 'pending', attempts = attempts + ? "
            f"WHERE {_WHERE_KEY} AND status = 'running'",
            [attempts, *key.params()],
        )


def record_done(
    db: sqlite_utils.Database,
    key: ItemKey,
    *,
    answer: str,
    conversation_id: str | None,
    message_id: str | None,
    attempts: int,
    latency_ms: int | None,
    throttling: Any = None,
    facts: AnswerFacts | None = None,
) -> None:
    facts = facts or AnswerFacts()
    with transaction(db) as conn:
        conn.execute(
            "UPDATE batch_items SET status = 'done', answer = ?, conversation_id = ?, "
            "message_id = ?, error = NULL, attempts = attempts + ?, latency_ms = ?, "
            "throttling_json = ?, prompt_tokens = ?, completion_tokens = ?, answer_model = ?, "
            f"finish_reason = ?, remote_batch = NULL, finished_at = ? WHERE {_WHERE_KEY}",
            [
                answer,
                conversation_id,
                message_id,
                attempts,
                latency_ms,
                None if throttling is None else json.dumps(throttling),
                facts.prompt_tokens,
                facts.completion_tokens,
                facts.model,
                facts.finish_reason,
                utc_now_iso(),
                *key.params(),
            ],
        )


def record_failed(
    db: sqlite_utils.Database,
    key: ItemKey,
    *,
    error: str,
    attempts: int,
    latency_ms: int | None,
    facts: AnswerFacts | None = None,
) -> None:
    """The row failed; ``facts`` keeps what its answer said when there was one (the tokens an
    answer cut at its length cost)."""
    facts = facts or AnswerFacts()
    with transaction(db) as conn:
        conn.execute(
            "UPDATE batch_items SET status = 'failed', error = ?, attempts = attempts + ?, "
            "latency_ms = ?, prompt_tokens = ?, completion_tokens = ?, answer_model = ?, "
            f"finish_reason = ?, remote_batch = NULL, finished_at = ? WHERE {_WHERE_KEY}",
            [
                error[:1000],
                attempts,
                latency_ms,
                facts.prompt_tokens,
                facts.completion_tokens,
                facts.model,
                facts.finish_reason,
                utc_now_iso(),
                *key.params(),
            ],
        )


def settle_run(db: sqlite_utils.Database, run_id: int) -> None:
    """A run that ended waiting on provider-side batches (status ``submitted``) gets the status
    its rows now earn, once none waits any more: ``done`` when every row is, else ``partial``."""
    counts = dict(
        db.execute(
            "SELECT status, count(*) FROM batch_items WHERE run_id = ? GROUP BY status", [run_id]
        ).fetchall()
    )
    if counts.get(SUBMITTED):
        return
    status = "done" if set(counts) <= {DONE} else "partial"
    with transaction(db) as conn:
        conn.execute(
            "UPDATE batch_runs SET status = ? WHERE id = ? AND status = ?",
            [status, run_id, SUBMITTED],
        )


def run_item_rows(db: sqlite_utils.Database, run_id: int) -> Iterable[dict[str, Any]]:
    """A run's items in input order."""
    cursor = db.execute(
        "SELECT row_number, item_key, thread, model, prompt, status, answer, conversation_id, "
        "message_id, error, attempts, latency_ms, started_at, finished_at, prompt_tokens, "
        "completion_tokens, answer_model, finish_reason "
        "FROM batch_items WHERE run_id = ? ORDER BY row_number",
        [run_id],
    )
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def latest_run_id(db: sqlite_utils.Database) -> int | None:
    row = db.execute("SELECT max(id) FROM batch_runs").fetchone()
    return row[0] if row else None


def conversation_nodes(db: sqlite_utils.Database, conversation_id: str) -> list[dict[str, Any]]:
    """The archived nodes of a conversation (to extend it with a new turn), tree order."""
    cursor = db.execute(
        "SELECT id, parent_id, raw_json, create_time FROM messages WHERE conversation_id = ? "
        "AND deleted_upstream_at IS NULL ORDER BY depth, position",
        [conversation_id],
    )
    return [
        {
            "id": node_id,
            "parent": parent,
            "message": json.loads(raw) if raw else None,
            "create_time": created,
        }
        for node_id, parent, raw, created in cursor
    ]


def conversation_header(db: sqlite_utils.Database, conversation_id: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT title, create_time, raw_json FROM conversations WHERE id = ?", [conversation_id]
    ).fetchone()
    if row is None:
        return None
    return {"title": row[0], "create_time": row[1], "raw": json.loads(row[2]) if row[2] else {}}
