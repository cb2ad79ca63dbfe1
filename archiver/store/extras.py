"""Writes for the export's other files (schema.sql migration 6): the files themselves
(``export_files``), the feedback the user gave (``message_feedback``, linked to the archived
message) and the shared links an export lists (``shared_links``, which the live audit in
account/shared.py also fills). Each call is one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archiver.flatten.records import dumps
from archiver.store.db import transaction
from archiver.timeutil import utc_now_iso


@dataclass(frozen=True)
class ExportFile:
    name: str
    sha256: str  # '' when not hashed (chat.html)
    size_bytes: int
    kind: str  # 'json' | 'html' | 'invalid' | 'too_large'
    content: str | None
    error: str | None = None


def save_export_file(db: sqlite_utils.Database, file: ExportFile) -> bool:
    """Keep one version of an export file; True when this name and content are new (a
    version already archived is left as it is: re-importing writes nothing)."""
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO export_files (name, sha256, size_bytes, kind, content, error, "
            "first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name, sha256, size_bytes) DO NOTHING",
            [
                file.name,
                file.sha256,
                file.size_bytes,
                file.kind,
                file.content,
                file.error,
                utc_now_iso(),
            ],
        )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class Feedback:
    id: str
    conversation_id: str | None
    message_id: str | None  # as the export names it (or the entry's own id)
    rating: str | None
    text: str | None
    create_time: str | None
    raw: dict[str, Any]


def save_feedback(db: sqlite_utils.Database, entries: Iterable[Feedback]) -> tuple[int, int]:
    """Insert feedback not yet archived, each linked to the archived message whose node id
    or message id it names. Returns (new, linked) — linked counts every entry of this call
    whose message is in the archive."""
    now = utc_now_iso()
    new = linked = 0
    with transaction(db) as conn:
        for entry in entries:
            node = None
            if entry.conversation_id and entry.message_id:
                row = conn.execute(
                    "SELECT id FROM messages WHERE conversation_id = ? AND (id = ? OR "
                    "message_id = ?) ORDER BY id = ? DESC LIMIT 1",
                    [entry.conversation_id, entry.message_id, entry.message_id, entry.message_id],
                ).fetchone()
                node = row[0] if row else None
            linked += node is not None
            existed = conn.execute(
                "SELECT 1 FROM message_feedback WHERE id = ?", [entry.id]
            ).fetchone()
            new += existed is None
            conn.execute(
                "INSERT INTO message_feedback (id, conversation_id, message_id, node_id, rating, "
                "text, create_time, raw_json, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET node_id = excluded.node_id "
                "WHERE message_feedback.node_id IS NULL AND excluded.node_id IS NOT NULL",
                [
                    entry.id,
                    entry.conversation_id,
                    entry.message_id,
                    node,
                    entry.rating,
                    entry.text,
                    entry.create_time,
                    dumps(entry.raw),
                    now,
                ],
            )
    return new, linked


# One shared link as both the live audit (account.shared) and an export's list store it.
INSERT_SHARED_LINK = (
    "INSERT INTO shared_links (id, account, conversation_id, title, create_time, "
    "update_time, is_anonymous, raw_json, first_seen_at, last_seen_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def shared_link_values(link: Any, account: str, now: str) -> list[Any]:
    """INSERT_SHARED_LINK's values for an account_parse.SharedLink seen ``now``."""
    anonymous = None if link.is_anonymous is None else int(link.is_anonymous)
    return [
        link.id,
        account,
        link.conversation_id,
        link.title,
        link.create_time,
        link.update_time,
        anonymous,
        dumps(link.raw),
        now,
        now,
    ]


def save_exported_shared_links(
    db: sqlite_utils.Database, account: str, links: Iterable[Any]
) -> int:
    """Shared links an export lists (account_parse.SharedLink). An export is a snapshot of
    some past day: it adds links the archive does not know and fills fields it lacks, and
    never marks or unmarks a link as deleted (that is the live audit's word). Returns how
    many links were new."""
    now = utc_now_iso()
    new = 0
    with transaction(db) as conn:
        for link in links:
            cursor = conn.execute(
                INSERT_SHARED_LINK + " ON CONFLICT (id) DO NOTHING",
                shared_link_values(link, account, now),
            )
            if cursor.rowcount:
                new += 1
                continue
            conn.execute(
                "UPDATE shared_links SET conversation_id = coalesce(conversation_id, ?), "
                "title = coalesce(title, ?), create_time = coalesce(create_time, ?), "
                "update_time = coalesce(update_time, ?) WHERE id = ? AND ("
                "(conversation_id IS NULL AND ?1 IS NOT NULL) OR (title IS NULL AND ?2 IS NOT NULL) "
                "OR (create_time IS NULL AND ?3 IS NOT NULL) OR (update_time IS NULL AND ?4 IS NOT NULL))",
                [link.conversation_id, link.title, link.create_time, link.update_time, link.id],
            )
    return new
