"""``save_conversation``: one conversation, its nodes and attachments, in one transaction.

Rules that make the archive lossless and re-runs idempotent:
- an unchanged conversation (same raw content, same flattener) is not rewritten at all;
- a node upstream no longer has is kept and marked ``deleted_upstream_at``, never deleted;
- with ``keep_newer`` (imports), older data never overwrites newer data already archived.
"""

from __future__ import annotations

import json
import operator
import sqlite3
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import sqlite_utils

from archiver.flatten.records import (
    CONVERSATION_COLUMNS,
    MESSAGE_COLUMNS,
    FlatConversation,
    escape_lone_surrogates,
    replace_lone_surrogates,
)
from archiver.store.db import transaction
from archiver.timeutil import trusted_until, utc_now_iso


class SaveOutcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED_OLDER = "skipped_older"  # with keep_newer: not newer than the copy archived


def _assign(columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)


_CONVERSATION_UPSERT = (
    f"INSERT INTO conversations ({', '.join(CONVERSATION_COLUMNS)}, first_seen_at, archived_at) "
    f"VALUES ({', '.join('?' * len(CONVERSATION_COLUMNS))}, ?, ?) "
    f"ON CONFLICT (id) DO UPDATE SET {_assign(CONVERSATION_COLUMNS, ('id',))}, "
    "archived_at = excluded.archived_at, deleted_upstream_at = NULL"
)

_ID = MESSAGE_COLUMNS.index("id")
_MESSAGE_VALUE_COLUMNS = tuple(c for c in MESSAGE_COLUMNS if c not in ("conversation_id", "id"))
_MESSAGE_NAMES = ", ".join(MESSAGE_COLUMNS)

# A conversation's nodes are staged in a temp table, then written by ONE statement. FTS5 flushes
# its pending index data at every statement savepoint, so a trigger fired row by row writes one
# tiny index segment per row (and merges them); one statement per conversation is 2x faster
# overall and keeps the sqlite-utils-style triggers as the single mechanism that syncs the index.
_CREATE_STAGING = f"CREATE TEMP TABLE IF NOT EXISTS staged_messages AS SELECT {_MESSAGE_NAMES} FROM messages WHERE 0"
_STAGE = f"INSERT INTO temp.staged_messages ({_MESSAGE_NAMES}) VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
# A node is rewritten only when something differs, so the FTS trigger does not churn.
# ("WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join's ON.)
_MESSAGE_UPSERT = (
    f"INSERT INTO messages ({_MESSAGE_NAMES}) SELECT {_MESSAGE_NAMES} FROM temp.staged_messages "
    f"WHERE true ON CONFLICT (conversation_id, id) DO UPDATE SET "
    f"{_assign(MESSAGE_COLUMNS, ('conversation_id', 'id'))}, deleted_upstream_at = NULL "
    f"WHERE ({', '.join('messages.' + c for c in _MESSAGE_VALUE_COLUMNS)}) "
    f"IS NOT ({', '.join('excluded.' + c for c in _MESSAGE_VALUE_COLUMNS)}) "
    "OR messages.deleted_upstream_at IS NOT NULL"
)
# A new conversation in a bulk import: no older rows to compare, no trigger work (store.fts).
_MESSAGE_INSERT = (
    f"INSERT INTO messages ({_MESSAGE_NAMES}) VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
)
_ATTACHMENT_UPSERT = (
    "INSERT INTO attachments (conversation_id, message_node_id, asset_pointer, file_name, "
    "mime_type, size_bytes) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (conversation_id, message_node_id, asset_pointer) DO UPDATE SET "
    "file_name = coalesce(excluded.file_name, attachments.file_name), "
    "mime_type = coalesce(excluded.mime_type, attachments.mime_type), "
    "size_bytes = coalesce(excluded.size_bytes, attachments.size_bytes)"
)


_message_values = operator.itemgetter(*MESSAGE_COLUMNS)


def save_conversation(
    db: sqlite_utils.Database,
    flat: FlatConversation,
    *,
    keep_newer: bool = False,
    force: bool = False,
) -> SaveOutcome:
    """``force`` rewrites derived rows even when the raw content is unchanged (re-flattening);
    rows are still only touched where a column actually differs."""
    return save_rows(
        db,
        flat.conversation,
        [_message_values(row) for row in flat.messages],
        flat.attachments,
        keep_newer=keep_newer,
        force=force,
    )


def save_rows(
    db: sqlite_utils.Database,
    conv: dict[str, Any],
    message_values: Sequence[Sequence[Any]],
    attachments: list[dict[str, Any]],
    *,
    keep_newer: bool = False,
    force: bool = False,
) -> SaveOutcome:
    """save_conversation for rows already in column order: ``message_values`` holds each
    message's values in MESSAGE_COLUMNS order (what the import pipeline ships)."""
    now = utc_now_iso()

    def save(rows: Rows) -> SaveOutcome:
        with transaction(db) as conn:
            return save_in_transaction(conn, *rows, keep_newer=keep_newer, force=force, now=now)

    return saved_as_utf8(save, (conv, message_values, attachments))


Rows = tuple[dict[str, Any], Sequence[Sequence[Any]], list[dict[str, Any]]]
# Columns that hold JSON text: a lone surrogate there is written back as its escape.
_JSON_COLUMNS = frozenset({"raw_json", "children"})
_MESSAGE_JSON = frozenset(i for i, c in enumerate(MESSAGE_COLUMNS) if c in _JSON_COLUMNS)


def saved_as_utf8(save: Callable[[Rows], SaveOutcome], rows: Rows) -> SaveOutcome:
    """``save(rows)``, in a transaction (or savepoint) that it rolls back when it fails. A lone
    UTF-16 surrogate (valid JSON, as a server that cuts an emoji in half sends it) is not
    UTF-8, and SQLite refuses it: then the rows are saved again without it (``utf8_rows``).
    Checking every value beforehand would cost every import; a failure costs only its own."""
    try:
        return save(rows)
    except UnicodeEncodeError:
        return save(utf8_rows(*rows))


def utf8_rows(
    conv: dict[str, Any],
    message_values: Sequence[Sequence[Any]],
    attachments: list[dict[str, Any]],
) -> Rows:
    """The rows with each lone surrogate replaced: by U+FFFD in text, by its ``\\uXXXX``
    escape in JSON text (so the raw JSON still says exactly what upstream sent)."""

    def clean(value: Any, json_text: bool) -> Any:
        if not isinstance(value, str):
            return value
        return escape_lone_surrogates(value) if json_text else replace_lone_surrogates(value)

    return (
        {key: clean(value, key in _JSON_COLUMNS) for key, value in conv.items()},
        [
            tuple(clean(value, i in _MESSAGE_JSON) for i, value in enumerate(row))
            for row in message_values
        ],
        [{key: clean(value, False) for key, value in a.items()} for a in attachments],
    )


def save_in_transaction(
    conn: sqlite3.Connection,
    conv: dict[str, Any],
    message_values: Sequence[Sequence[Any]],
    attachments: list[dict[str, Any]],
    *,
    keep_newer: bool,
    force: bool = False,
    now: str,
    bulk: Callable[[], None] | None = None,
) -> SaveOutcome:
    """The body of save_rows, inside a transaction (or savepoint) the caller holds. ``bulk``
    (called before the first row is written): the full-text index is filled after loading
    (store.fts), so the nodes of a new conversation are inserted directly instead of through
    the staging table."""
    existing = conn.execute(
        "SELECT content_hash, flattener_version, update_time, deleted_upstream_at, "
        "list_update_time FROM conversations WHERE id = ?",
        [conv["id"]],
    ).fetchone()
    if existing is not None:
        old_hash, old_version, old_update, old_deleted, old_listed = existing
        if (
            not force
            and old_hash == conv["content_hash"]
            and old_version == conv["flattener_version"]
            and old_deleted is None
        ):
            # Same content: only remember how the list showed it (the sync key).
            if conv["list_update_time"] and conv["list_update_time"] != old_listed:
                conn.execute(
                    "UPDATE conversations SET list_update_time = ? WHERE id = ?",
                    [conv["list_update_time"], conv["id"]],
                )
            return SaveOutcome.UNCHANGED
        # An import never replaces what the archive has at the same or a later version: a
        # live copy with the same update_time carries fields an export lacks. An update_time
        # in the future (an export saying 2100) is not believed to be newer than anything.
        new_update = conv["update_time"]
        if (
            keep_newer
            and old_update
            and new_update
            and (old_update >= new_update or new_update > trusted_until(now))
        ):
            return SaveOutcome.SKIPPED_OLDER
    if bulk is not None:
        bulk()
    values = dict(conv)
    if existing is not None and not values["list_update_time"]:
        values["list_update_time"] = existing[4]  # an export does not know the list's view
    conn.execute(
        _CONVERSATION_UPSERT,
        [values[c] for c in CONVERSATION_COLUMNS] + [now, now],
    )
    if bulk is not None and existing is None:
        conn.executemany(_MESSAGE_INSERT, message_values)
    else:
        _write_messages(conn, message_values)
    if existing is not None:  # a new conversation has no older nodes (foreign key)
        # Nodes upstream dropped: keep them, mark them, take them off the current branch.
        conn.execute(
            "UPDATE messages SET deleted_upstream_at = ?, on_current_branch = 0 "
            "WHERE conversation_id = ? AND deleted_upstream_at IS NULL "
            "AND id NOT IN (SELECT value FROM json_each(?))",
            [now, conv["id"], json.dumps([values[_ID] for values in message_values])],
        )
    if attachments:
        conn.executemany(
            _ATTACHMENT_UPSERT,
            [
                [
                    a["conversation_id"],
                    a["message_node_id"],
                    a["asset_pointer"],
                    a.get("file_name"),
                    a.get("mime_type"),
                    a.get("size_bytes"),
                ]
                for a in attachments
            ],
        )
    return SaveOutcome.NEW if existing is None else SaveOutcome.UPDATED


def _write_messages(conn: sqlite3.Connection, message_values: Sequence[Sequence[Any]]) -> None:
    conn.execute(_CREATE_STAGING)
    try:
        conn.executemany(_STAGE, message_values)
        conn.execute(_MESSAGE_UPSERT)
    finally:
        conn.execute("DELETE FROM temp.staged_messages")
