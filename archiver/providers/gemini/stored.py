"""What the archive already holds for Gemini, read for merging (and the Gems, written).

The live backup and the Takeout import each build a chat from everything the archive holds
for it plus what they read (``flatten``), so these reads are the only I/O the merge needs:
a chat's rows, the Takeout entries a chat holds, where an entry was filed before, and which
live prompt an entry without a chat link is."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import sqlite_utils

from archiver.flatten.records import dumps
from archiver.providers.gemini.flatten import MATCH_SECONDS, GeminiChat, chat_from_rows
from archiver.providers.gemini.options import PROVIDER
from archiver.providers.gemini.takeout import Entry, normalized
from archiver.store.db import transaction
from archiver.timeutil import to_datetime, to_iso, utc_now_iso

_TAKEOUT_ROW = '{"takeout":%'
_TURN_ROW = '{"turn":%'


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_chat(db: sqlite_utils.Database, conversation_id: str) -> GeminiChat | None:
    """The chat as archived (rows marked gone upstream left out); None when it is not."""
    found = _rows(
        db, "SELECT * FROM conversations WHERE id = ? AND provider = ?", [conversation_id, PROVIDER]
    )
    if not found:
        return None
    messages = _rows(
        db, "SELECT * FROM messages WHERE conversation_id = ? ORDER BY pk", [conversation_id]
    )
    return chat_from_rows(found[0], messages)


def stored_entries(db: sqlite_utils.Database, conversation_id: str) -> list[Entry]:
    """The Takeout entries a chat holds (what a live backup must keep when it rewrites it)."""
    rows = _rows(
        db,
        "SELECT id, raw_json, deleted_upstream_at FROM messages WHERE conversation_id = ? "
        "AND raw_json LIKE ? ORDER BY pk",
        [conversation_id, _TAKEOUT_ROW],
    )
    return chat_from_rows({"id": conversation_id}, rows).entries


def placed(db: sqlite_utils.Database, keys: Iterable[str]) -> dict[str, str]:
    """Entry key → the Gemini chat an earlier import (or backup) filed it in."""
    wanted = json.dumps(sorted(set(keys)))
    rows = db.execute(
        "SELECT m.id, m.conversation_id FROM messages AS m "
        "JOIN conversations AS c ON c.id = m.conversation_id AND c.provider = ? "
        "WHERE m.id IN (SELECT value FROM json_each(?)) AND m.deleted_upstream_at IS NULL "
        "ORDER BY m.pk",
        [PROVIDER, wanted],
    ).fetchall()
    found: dict[str, str] = {}
    for key, conversation_id in rows:
        found.setdefault(key, conversation_id)
    return found


def live_match(db: sqlite_utils.Database, entry: Entry) -> str | None:
    """The live chat holding this entry's prompt (same text, sent within MATCH_SECONDS)."""
    when = to_datetime(entry.time)
    if when is None:
        return None
    low = to_iso((when - timedelta(seconds=MATCH_SECONDS)).timestamp())
    high = to_iso((when + timedelta(seconds=MATCH_SECONDS)).timestamp())
    wanted = normalized(entry.prompt)
    rows = db.execute(
        "SELECT m.conversation_id, m.text, m.create_time FROM messages AS m "
        "JOIN conversations AS c ON c.id = m.conversation_id AND c.provider = ? "
        "WHERE m.role = 'user' AND m.create_time BETWEEN ? AND ? AND m.raw_json LIKE ? "
        "AND m.deleted_upstream_at IS NULL",
        [PROVIDER, low, high, _TURN_ROW],
    ).fetchall()
    best: tuple[float, str] | None = None
    for conversation_id, text, created in rows:
        sent = to_datetime(created)
        if sent is None or normalized(text or "") != wanted:
            continue
        gap = abs((sent - when).total_seconds())
        if best is None or gap < best[0]:
            best = (gap, conversation_id)
    return best[1] if best else None


def save_gems(
    db: sqlite_utils.Database, gems: Mapping[str, tuple[str | None, Any]], account: str = ""
) -> int:
    """Record the Gems chats used, in ``projects`` (provider ``gemini``): new ones count."""
    if not gems:
        return 0
    now = utc_now_iso()
    new = 0
    with transaction(db) as conn:
        for gem_id, (name, raw) in gems.items():
            known = conn.execute("SELECT name FROM projects WHERE id = ?", [gem_id]).fetchone()
            new += known is None
            conn.execute(
                "INSERT INTO projects (id, provider, account, name, raw_json, first_seen_at, "
                "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "name = coalesce(excluded.name, projects.name), "
                "raw_json = excluded.raw_json, last_seen_at = excluded.last_seen_at",
                [gem_id, PROVIDER, account, name, dumps(raw), now, now],
            )
    return new


__all__ = ["live_match", "load_chat", "placed", "save_gems", "stored_entries"]
