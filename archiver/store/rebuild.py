"""Re-derive rows from the raw JSON already in the archive, without downloading again
(``archiver reflatten``): each provider that can (``Provider.reflatten``) rebuilds a
conversation from its stored rows with its current flattener, and the rows are saved again.
The provider's flattener version says which conversations are stale."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlite_utils

from archiver.flatten.records import FlatConversation
from archiver.store.save import save_conversation
from archiver.summary import Summary

log = logging.getLogger("archiver.reflatten")


class Reflattener(Protocol):
    """A provider's ``Reflatten`` capability as this engine sees it."""

    @property
    def version(self) -> int: ...

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation: ...


@dataclass
class ReflattenSummary(Summary):
    conversations: int = 0
    skipped: int = 0  # rows whose stored raw JSON cannot be read: kept as they are

    @property
    def partial(self) -> bool:
        return bool(self.skipped)


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def stored_rows(
    db: sqlite_utils.Database, conversation_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A conversation's stored row and every message row, in insertion order."""
    found = _rows(db, "SELECT * FROM conversations WHERE id = ?", [conversation_id])
    if not found:
        raise KeyError(conversation_id)
    messages = _rows(
        db, "SELECT * FROM messages WHERE conversation_id = ? ORDER BY rowid", [conversation_id]
    )
    return found[0], messages


def reflatten(
    db: sqlite_utils.Database,
    reflatteners: Mapping[str, Reflattener],
    *,
    everything: bool = False,
) -> ReflattenSummary:
    """Re-run each provider's current flattener over its archived conversations: those
    flattened by an older version, or all of them. One transaction per conversation."""
    summary = ReflattenSummary()
    for provider, reflattener in reflatteners.items():
        sql = "SELECT id FROM conversations WHERE provider = ?"
        params: list[Any] = [provider]
        if not everything:
            sql += " AND coalesce(flattener_version, 0) < ?"
            params.append(reflattener.version)
        for (cid,) in db.execute(sql, params).fetchall():
            try:
                flat = reflattener.rebuild(*stored_rows(db, cid))
            except (ValueError, TypeError, KeyError) as exc:  # JSONDecodeError: ValueError
                # One corrupt row must not abort the rest; its rows stay as they were.
                summary.skipped += 1
                summary.errors.append(f"{cid}: stored raw JSON cannot be rebuilt ({exc}); skipped")
                continue
            save_conversation(db, flat, force=True)
            summary.conversations += 1
            log.info("re-derived %s: %d messages", cid, len(flat.messages))
    return summary
