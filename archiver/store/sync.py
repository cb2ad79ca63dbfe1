"""Sync state: high-water marks per upstream list, fetch failures, upstream deletions.

A high-water mark is advanced only after every conversation it covers has been committed, so a
run killed at any moment resumes from the old mark and re-checks, item by item, what it needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import sqlite_utils

from archiver.store.db import transaction
from archiver.timeutil import trusted_until, utc_now_iso


@dataclass(frozen=True)
class FeedKey:
    provider: str
    account: str
    base_url: str
    feed: str


def get_high_water(db: sqlite_utils.Database, key: FeedKey) -> str | None:
    row = db.execute(
        "SELECT high_water FROM sync_state "
        "WHERE provider = ? AND account = ? AND base_url = ? AND feed = ?",
        [key.provider, key.account, key.base_url, key.feed],
    ).fetchone()
    return row[0] if row else None


def advance_high_water(
    db: sqlite_utils.Database, key: FeedKey, high_water: str | None, *, full: bool = False
) -> None:
    """Record a completed walk of a list; the mark never moves backwards."""
    now = utc_now_iso()
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO sync_state (provider, account, base_url, feed, high_water, last_run_at, "
            "last_full_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (provider, account, base_url, feed) DO UPDATE SET "
            "high_water = CASE WHEN sync_state.high_water IS NULL "
            "  OR excluded.high_water > sync_state.high_water "
            "  THEN excluded.high_water ELSE sync_state.high_water END, "
            "last_run_at = excluded.last_run_at, "
            "last_full_at = coalesce(excluded.last_full_at, sync_state.last_full_at)",
            [
                key.provider,
                key.account,
                key.base_url,
                key.feed,
                high_water,
                now,
                now if full else None,
            ],
        )


def last_full_at(
    db: sqlite_utils.Database, provider: str, account: str, base_url: str
) -> str | None:
    row = db.execute(
        "SELECT min(last_full_at) FROM sync_state WHERE provider = ? AND account = ? AND base_url = ?",
        [provider, account, base_url],
    ).fetchone()
    return row[0] if row else None


def stored_list_times(db: sqlite_utils.Database, ids: list[str]) -> dict[str, str | None]:
    """How the upstream list showed each archived conversation last time (the change detector).
    None for a copy whose update_time is in the future (an imported export saying 2100): such
    a time is not believed, and the live copy, which the list still shows, is fetched again."""
    if not ids:
        return {}
    rows = db.execute(
        "SELECT id, CASE WHEN update_time > ? THEN NULL ELSE list_update_time END "
        "FROM conversations WHERE id IN (SELECT value FROM json_each(?))",
        [trusted_until(utc_now_iso()), json.dumps(ids)],
    )
    return dict(rows.fetchall())


def record_fetch_error(
    db: sqlite_utils.Database, provider: str, conversation_id: str, status: int | None, error: str
) -> None:
    now = utc_now_iso()
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO fetch_errors (provider, conversation_id, status, error, first_at, last_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, conversation_id) DO UPDATE SET "
            "status = excluded.status, error = excluded.error, attempts = fetch_errors.attempts + 1, "
            "last_at = excluded.last_at, resolved_at = NULL",
            [provider, conversation_id, status, error, now, now],
        )


def resolve_fetch_error(db: sqlite_utils.Database, provider: str, conversation_id: str) -> None:
    with transaction(db) as conn:
        conn.execute(
            "UPDATE fetch_errors SET resolved_at = ? "
            "WHERE provider = ? AND conversation_id = ? AND resolved_at IS NULL",
            [utc_now_iso(), provider, conversation_id],
        )


def unresolved_fetch_errors(db: sqlite_utils.Database, provider: str) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT conversation_id FROM fetch_errors WHERE provider = ? AND resolved_at IS NULL "
            "AND coalesce(status, 0) != 404 ORDER BY first_at",
            [provider],
        )
    ]


def mark_missing_upstream(
    db: sqlite_utils.Database, provider: str, account: str, seen_ids: set[str]
) -> int:
    """After a complete walk: conversations upstream no longer lists are marked, never deleted.
    Those listed again are unmarked. Returns how many were newly marked."""
    now = utc_now_iso()
    seen = json.dumps(sorted(seen_ids))
    with transaction(db) as conn:
        cursor = conn.execute(
            # Only conversations that came from this account's lists: imported and batch ones
            # were never listed, so their absence from a list says nothing.
            "UPDATE conversations SET deleted_upstream_at = ? WHERE provider = ? AND account = ? "
            "AND deleted_upstream_at IS NULL AND list_update_time IS NOT NULL "
            "AND id NOT IN (SELECT value FROM json_each(?))",
            [now, provider, account, seen],
        )
        conn.execute(
            "UPDATE conversations SET deleted_upstream_at = NULL WHERE provider = ? AND account = ? "
            "AND deleted_upstream_at IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
            [provider, account, seen],
        )
        return cursor.rowcount


def count_listed_live(db: sqlite_utils.Database, provider: str, account: str) -> int:
    """Conversations this account's lists showed that are not marked deleted upstream."""
    row = db.execute(
        "SELECT count(*) FROM conversations WHERE provider = ? AND account = ? "
        "AND deleted_upstream_at IS NULL AND list_update_time IS NOT NULL",
        [provider, account],
    ).fetchone()
    return int(row[0])


def mark_deleted_upstream(
    db: sqlite_utils.Database,
    row_id: str,
    table: Literal["conversations", "projects"] = "conversations",
) -> None:
    """One conversation (or project) is gone upstream: marked, never deleted; the first time
    it was seen gone is kept."""
    with transaction(db) as conn:
        conn.execute(
            f"UPDATE {table} SET deleted_upstream_at = ? "
            "WHERE id = ? AND deleted_upstream_at IS NULL",
            [utc_now_iso(), row_id],
        )
