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
