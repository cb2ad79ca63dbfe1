"""Run history (``runs``) and the throttling cool-downs runs leave for each other (``cooldowns``).

A run row is written ``running`` when a run starts and finished when it ends. A process killed
with ``kill -9`` leaves its row ``running``; the next run, holding the database lock, knows no
other run can be alive and marks such rows ``interrupted``. Error texts come from ArchiverError
messages, which never contain secrets."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlite_utils

from archiver.clock import clock
from archiver.errors import ThrottledUntil
from archiver.store.db import transaction
from archiver.timeutil import to_datetime, to_iso, utc_now_iso

STATUS_RUNNING = "running"
STATUS_OK = "ok"
STATUS_PARTIAL = "partial"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"
STATUS_COOLDOWN = "cooldown"  # skipped: the account was still cooling down after a 429

_MAX_ERROR = 2000


def mark_stale_runs(db: sqlite_utils.Database) -> int:
    """Mark ``running`` rows ``interrupted``. Call only while holding the database lock: then no
    other run is alive, so every ``running`` row belongs to a process that died."""
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE runs SET status = ?, error = coalesce(error, ?) WHERE status = ?",
            [
                STATUS_INTERRUPTED,
                "the run ended without finishing (killed or crashed)",
                STATUS_RUNNING,
            ],
        )
        # A batch killed the same way leaves its batch_runs row 'running' too.
        conn.execute(
            "UPDATE batch_runs SET status = 'interrupted', finished_at = coalesce(finished_at, ?) "
            "WHERE status = 'running'",
            [utc_now_iso()],
        )
        return cursor.rowcount


def start_run(db: sqlite_utils.Database, job: str, kind: str) -> int:
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO runs (job, kind, started_at, status) VALUES (?, ?, ?, ?)",
            [job, kind, utc_now_iso(), STATUS_RUNNING],
        )
        return int(cursor.lastrowid or 0)


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    status: str,
    exit_code: int | None,
    counts: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> None:
    with transaction(db) as conn:
        conn.execute(
            "UPDATE runs SET finished_at = ?, status = ?, exit_code = ?, counts_json = ?, "
            "error = ? WHERE id = ?",
            [
                utc_now_iso(),
                status,
                exit_code,
                json.dumps(dict(counts), sort_keys=True) if counts is not None else None,
                error[:_MAX_ERROR] if error else None,
                run_id,
            ],
        )


def recent_runs(
    db: sqlite_utils.Database | sqlite3.Connection, *, job: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    where, params = ("WHERE job = ?", [job]) if job else ("", [])
    cursor = db.execute(
        f"SELECT id, job, kind, started_at, finished_at, status, exit_code, counts_json, error "
        f"FROM runs {where} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    )
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def set_cooldown(
    db: sqlite_utils.Database, provider: str, account: str, until: datetime, reason: str
) -> str:
    """Remember that this account must not be called before ``until`` (the latest observation
    replaces an older one). Returns ``until`` as stored."""
    until_iso = to_iso(until.timestamp()) or utc_now_iso()
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO cooldowns (provider, account, until, reason, set_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, account) DO UPDATE SET "
            "until = excluded.until, reason = excluded.reason, set_at = excluded.set_at",
            [provider, account, until_iso, reason, utc_now_iso()],
        )
    return until_iso


def active_cooldown(
    db: sqlite_utils.Database, provider: str, account: str, *, now: datetime | None = None
) -> datetime | None:
    """The end of this account's cool-down, if it is still in the future."""
    row = db.execute(
        "SELECT until FROM cooldowns WHERE provider = ? AND account = ?", [provider, account]
    ).fetchone()
    until = to_datetime(row[0]) if row else None
    if until is None or until <= (now or clock().wall()):
        return None
    return until


# A cap on sending prompts (ChatGPT's model cap) is remembered under "<provider>:send": runs
# that send (batch, the gateway) honour it, a backup (which only reads) does not.
SENDING_SUFFIX = ":send"


def sending_scope(provider: str) -> str:
    return provider + SENDING_SUFFIX


def cooldown_reason(db: sqlite_utils.Database, provider: str, account: str) -> str:
    row = db.execute(
        "SELECT reason FROM cooldowns WHERE provider = ? AND account = ?", [provider, account]
    ).fetchone()
    return str(row[0] or "") if row else ""


def sending_cooldown(
    db: sqlite_utils.Database, provider: str, account: str, *, now: datetime | None = None
) -> tuple[datetime, str] | None:
    """What keeps a sending run from calling this account: the later of its rate-limit
    cool-down and its sending cap, with the reason stored; None when neither is active."""
    found: list[tuple[datetime, str]] = []
    for scope in (provider, sending_scope(provider)):
        until = active_cooldown(db, scope, account, now=now)
        if until is not None:
            found.append((until, cooldown_reason(db, scope, account)))
    return max(found, key=lambda f: f[0]) if found else None


def remember_throttle_stop(
    db: sqlite_utils.Database, provider: str, account: str, stop: ThrottledUntil
) -> str:
    """A run stopped because a wait would have exceeded ``max_wait``: cron skips until then."""
    scope = sending_scope(provider) if stop.sending_only else provider
    stored = set_cooldown(db, scope, account, stop.until, stop.reason)
    logging.getLogger("archiver.jobs").warning(
        "%s: throttled; cooling down until %s", provider, stored
    )
    return stored
