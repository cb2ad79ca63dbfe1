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
from archiver.timeutil import utc_now_iso

DOCS_KEY = "project_docs:"  # account_state key: the project version whose documents were read


def docs_read(db: sqlite_utils.Database, account: str) -> dict[str, str | None]:
    """Project uuid → the ``updated_at`` its documents were last read at."""
    rows = db.execute(
        "SELECT key, value FROM account_state WHERE provider = ? AND account = ? AND key LIKE ?",
        [PROVIDER, account, DOCS_KEY + "%"],
    ).fetchall()
    return {key.removeprefix(DOCS_KEY): value for key, value in rows}


def remember_docs_read(
    db: sqlite_utils.Database, account: str, project: str, updated_at: str | None
) -> None:
    """The project's documents are archived as of ``updated_at``: not read again until it
    moves. Written only after they were saved, so a failed read is tried again next run."""
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO account_state (provider, account, key, value, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, account, key) DO UPDATE SET "
            "value = excluded.value, updated_at = excluded.updated_at",
            [PROVIDER, account, DOCS_KEY + project, updated_at, utc_now_iso()],
        )


def changed_projects(
    db: sqlite_utils.Database, projects: list[Project], account: str
) -> list[Project]:
    """Projects whose documents were never read, or whose ``updated_at`` moved since."""
    read = docs_read(db, account)
    return [
        p
        for p in projects
        if p.uuid not in read or p.updated_at is None or p.updated_at != read[p.uuid]
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
    "docs_read",
    "exported_project",
    "mark_projects_gone",
    "project_names",
    "remember_docs_read",
    "save_projects",
]
