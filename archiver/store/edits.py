"""The few changes to archived conversations made after their save: a title given later, the
file an attachment pointer turned out to name. The store owns every write to the core tables
(conversations, messages, attachments); engines call these instead of writing SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlite_utils

from archiver.store.db import transaction


def set_title(db: sqlite_utils.Database, conversation_id: str, title: str) -> None:
    """Set the archived title, and the title inside raw_json so the two never disagree."""
    with transaction(db) as conn:
        conn.execute(
            "UPDATE conversations SET title = ?, raw_json = CASE WHEN json_valid(raw_json) "
            "THEN json_set(raw_json, '$.title', ?) ELSE raw_json END WHERE id = ?",
            [title, title, conversation_id],
        )


def set_attachment_files(
    db: sqlite_utils.Database, updates: Iterable[Sequence[str | None]]
) -> None:
    """Each update: (file_name, extracted_path or None, conversation_id, message_node_id,
    asset_pointer). An extracted path already recorded is kept when none is given."""
    with transaction(db) as conn:
        conn.executemany(
            "UPDATE attachments SET file_name = ?, extracted_path = coalesce(?, extracted_path) "
            "WHERE conversation_id = ? AND message_node_id = ? AND asset_pointer = ?",
            list(updates),
        )


AttachmentKey = tuple[str, str, str]  # conversation_id, message_node_id, asset_pointer


def record_download(
    db: sqlite_utils.Database,
    keys: Iterable[AttachmentKey],
    status: str,
    *,
    sha256: str | None = None,
    size: int | None = None,
    file_name: str | None = None,
    mime_type: str | None = None,
    error: str | None = None,
    now: str,
) -> None:
    """What became of the file these attachment rows point at: ``stored`` (with its sha256 in
    the file store), ``gone``, ``failed``, ``too_large`` or ``skipped``. Known names and types
    are kept; ``downloaded_at`` moves only when the bytes were stored."""
    with transaction(db) as conn:
        conn.executemany(
            "UPDATE attachments SET download_status = ?, download_error = ?, "
            "sha256 = coalesce(?, sha256), size_bytes = coalesce(?, size_bytes), "
            "file_name = coalesce(file_name, ?), mime_type = coalesce(mime_type, ?), "
            "downloaded_at = CASE WHEN ? = 'stored' THEN ? ELSE downloaded_at END "
            "WHERE conversation_id = ? AND message_node_id = ? AND asset_pointer = ?",
            [
                [status, error, sha256, size, file_name, mime_type, status, now, *key]
                for key in keys
            ],
        )


def stored_copy(
    db: sqlite_utils.Database, pointers: Iterable[str]
) -> tuple[str, int | None] | None:
    """The sha256 and size of a file already in the file store under one of ``pointers`` (the
    spellings of one file's pointer, tried in order), or None when no row has stored it."""
    for pointer in pointers:
        row = db.execute(
            "SELECT sha256, size_bytes FROM attachments WHERE asset_pointer = ? "
            "AND download_status = 'stored' AND sha256 IS NOT NULL LIMIT 1",
            [pointer],
        ).fetchone()
        if row:
            return str(row[0]), row[1]
    return None


def pending_attachments(
    db: sqlite_utils.Database, provider: str
) -> list[tuple[str, str, str, str | None]]:
    """The attachment rows of ``provider``'s conversations whose file was never tried or
    failed before: (conversation id, message node id, pointer, the message's raw JSON)."""
    return db.execute(
        "SELECT a.conversation_id, a.message_node_id, a.asset_pointer, m.raw_json "
        "FROM attachments AS a JOIN conversations AS c ON c.id = a.conversation_id "
        "LEFT JOIN messages AS m ON m.conversation_id = a.conversation_id "
        "AND m.id = a.message_node_id "
        "WHERE c.provider = ? AND (a.download_status IS NULL OR a.download_status = 'failed') "
        "ORDER BY a.conversation_id, a.message_node_id, a.asset_pointer",
        [provider],
    ).fetchall()
