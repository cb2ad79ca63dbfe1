"""Claude Projects in the ``projects`` table (as ChatGPT's: ``conversations.gizmo_id`` points
here), from the live list or the data export. Marked gone, never deleted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils

from archiver.providers.claude.options import PROVIDER
from archiver.providers.claude.parse import Project
from archiver.store.db import transaction
from archiver.store.projects import ProjectRow
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


def project_rows(projects: Iterable[Project]) -> list[ProjectRow]:
    """Claude's projects as ``projects`` rows (they have no emoji)."""
    return [ProjectRow(p.uuid, p.name, p.description, raw=p.raw) for p in projects]


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
    "project_names",
    "project_rows",
    "remember_docs_read",
]
