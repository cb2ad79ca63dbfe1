"""The ``projects`` table: a provider's named groups of conversations (ChatGPT's projects,
Claude's Projects; ``conversations.gizmo_id`` points here). Seen again, a project is refreshed
and no longer marked gone; missing from a complete walk, it is marked, never deleted."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from archiver.flatten.records import dumps
from archiver.store.db import transaction
from archiver.timeutil import utc_now_iso


@dataclass(frozen=True)
class ProjectRow:
    """One project as upstream listed it, whole in ``raw``."""

    id: str
    name: str | None
    description: str | None = None
    emoji: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def save_projects(
    db: sqlite_utils.Database, provider: str, account: str, projects: Iterable[ProjectRow]
) -> int:
    """Insert or refresh each project (first and last seen kept); returns how many."""
    now = utc_now_iso()
    written = 0
    with transaction(db) as conn:
        for p in projects:
            conn.execute(
                "INSERT INTO projects (id, provider, account, name, description, emoji, raw_json, "
                "first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                "description = excluded.description, emoji = excluded.emoji, "
                "raw_json = excluded.raw_json, last_seen_at = excluded.last_seen_at, "
                "deleted_upstream_at = NULL",
                [p.id, provider, account, p.name, p.description, p.emoji, dumps(p.raw), now, now],
            )
            written += 1
    return written


def mark_projects_gone(
    db: sqlite_utils.Database, provider: str, account: str, seen: set[str]
) -> int:
    """After a complete walk of the account's projects: those it did not show are marked."""
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE projects SET deleted_upstream_at = ? WHERE provider = ? AND account = ? "
            "AND deleted_upstream_at IS NULL AND id NOT IN (SELECT value FROM json_each(?))",
            [utc_now_iso(), provider, account, json.dumps(sorted(seen))],
        )
        return cursor.rowcount
