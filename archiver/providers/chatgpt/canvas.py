"""Canvas documents (``conversation/{id}/textdocs``), fetched only for conversations that have
canvas messages, every version kept with its raw JSON (the ``textdocs`` table).

``has_canvas`` and ``parse_textdocs`` are pure; ``save_textdocs`` writes one transaction. The
import of an export writes the same table."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from archiver.flatten.records import as_dict, as_str, dumps
from archiver.store.db import transaction
from archiver.timeutil import to_iso, utc_now_iso

CANVAS_TOOL_PREFIX = "canmore."


def has_canvas(conversation: Any) -> bool:
    """True when a message talks to or comes from the canvas tool (``canmore.*``), or points at
    a canvas asset."""
    mapping = as_dict(conversation).get("mapping")
    for node in as_dict(mapping).values():
        message = as_dict(as_dict(node).get("message"))
        if not message:
            continue
        recipient = as_str(message.get("recipient")) or ""
        name = as_str(as_dict(message.get("author")).get("name")) or ""
        if recipient.startswith(CANVAS_TOOL_PREFIX) or name.startswith(CANVAS_TOOL_PREFIX):
            return True
        metadata = as_dict(message.get("metadata"))
        if metadata.get("canvas"):
            return True
        parts = as_dict(message.get("content")).get("parts")
        for part in parts if isinstance(parts, list) else []:
            if as_dict(part).get("content_type") == "canvas_asset_pointer":
                return True
    return False


def parse_textdocs(body: bytes) -> list[dict[str, Any]]:
    """A bare array of documents; an empty body (204) or anything not a list means none."""
    if not body.strip():
        return []
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        payload = payload["items"]  # tolerate a wrapped form
    if not isinstance(payload, list):
        return []
    return [doc for doc in payload if isinstance(doc, dict) and as_str(doc.get("id"))]


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
