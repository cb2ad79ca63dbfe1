"""Versioned documents kept beside a conversation (the ``textdocs`` table): ChatGPT's canvas
documents and Claude's artifacts. A version's content never changes, so a version already
archived is never written again; every version keeps its raw JSON."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from archiver.flatten.records import dumps
from archiver.loosejson import as_str
from archiver.store.db import transaction
from archiver.timeutil import to_iso, utc_now_iso


def textdoc_rows(conversation_id: str, docs: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for doc in docs:
        version = doc.get("version")
        rows.append(
            [
                conversation_id,
                doc["id"],
                version if isinstance(version, int) and not isinstance(version, bool) else 0,
                as_str(doc.get("title")),
                as_str(doc.get("textdoc_type")),
                as_str(doc.get("content")),
                to_iso(doc.get("updated_at")),
                dumps(doc),
            ]
        )
    return rows


def save_textdocs(
    db: sqlite_utils.Database, conversation_id: str, docs: list[dict[str, Any]]
) -> int:
    """Insert versions not yet archived (a version's content does not change); returns how many."""
    rows = textdoc_rows(conversation_id, docs)
    if not rows:
        return 0
    now = utc_now_iso()
    added = 0
    with transaction(db) as conn:
        for row in rows:
            cursor = conn.execute(
                "INSERT INTO textdocs (conversation_id, id, version, title, textdoc_type, content, "
                "updated_at, raw_json, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id, version) DO NOTHING",
                [*row, now],
            )
            added += cursor.rowcount
    return added
