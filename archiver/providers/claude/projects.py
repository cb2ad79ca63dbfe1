"""Claude Projects in the ``projects`` table (as ChatGPT's: ``conversations.gizmo_id`` points
here), from the live list or the data export. Marked gone, never deleted."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from archiver.flatten.records import dumps
from archiver.providers.claude.options import PROVIDER
from archiver.providers.claude.parse import Project
from archiver.store.db import transaction
from archiver.timeutil import to_iso, utc_now_iso


def stored_versions(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, str | None]:
    """Each archived project's ``updated_at`` as last stored (what tells a changed project)."""
    rows = db.execute(
        "SELECT id, raw_json FROM projects WHERE provider = ? AND id IN "
        "(SELECT value FROM json_each(?))",
        [PROVIDER, json.dumps(list(ids))],
    ).fetchall()
    found: dict[str, str | None] = {}
    for ident, raw in rows:
        try:
            value = json.loads(raw) if raw else {}
        except ValueError:
            value = {}
        found[ident] = to_iso(value.get("updated_at")) if isinstance(value, dict) else None
    return found


def changed_projects(db: sqlite_utils.Database, projects: list[Project]) -> list[Project]:
    """Projects new to the archive or whose ``updated_at`` moved: their documents are read."""
    stored = stored_versions(db, [p.uuid for p in projects])
    return [
        p
        for p in projects
        if p.uuid not in stored or p.updated_at is None or p.updated_at != stored[p.uuid]
    ]


def save_projects(db: sqlite_utils.Database, projects: Iterable[Project], account: str) -> int:
    """Insert or refresh each project (name, description, raw JSON, first and last seen);
    a project seen again is no longer marked gone. Returns how many were written."""
    now = utc_now_iso()
    written = 0
    with transaction(db) as conn:
        for p in projects:
            conn.execute(
                "INSERT INTO projects (id, provider, account, name, description, emoji, raw_json, "
                "first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                "description = excluded.description, raw_json = excluded.raw_json, "
                "last_seen_at = excluded.last_seen_at, deleted_upstream_at = NULL",
                [p.uuid, PROVIDER, account, p.name, p.description, dumps(p.raw), now, now],
            )
            written += 1
    return written


def mark_projects_gone(db: sqlite_utils.Database, account: str, seen: set[str]) -> int:
    """After every organization's project list was read: those not listed are marked."""
    now = utc_now_iso()
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE projects SET deleted_upstream_at = ? WHERE provider = ? AND account = ? "
            "AND deleted_upstream_at IS NULL AND id NOT IN (SELECT value FROM json_each(?))",
            [now, PROVIDER, account, json.dumps(sorted(seen))],
        )
        return cursor.rowcount


def project_names(db: sqlite_utils.Database) -> dict[str, str]:
    return {
        ident: name
        for ident, name in db.execute(
            "SELECT id, name FROM projects WHERE provider = ? AND name IS NOT NULL", [PROVIDER]
        ).fetchall()
    }


def exported_project(raw: Any) -> dict[str, Any]:
    """An export's project as the live list shows one: without its documents (kept in the
    knowledge conversation and in the export's own file)."""
    return {k: v for k, v in raw.items() if k != "docs"} if isinstance(raw, dict) else {}


__all__ = [
    "changed_projects",
    "exported_project",
    "mark_projects_gone",
    "project_names",
    "save_projects",
]
