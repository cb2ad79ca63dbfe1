"""Re-derive rows from the raw JSON already in the archive, without downloading again.

The archive keeps each conversation's upstream object (minus its mapping) and each node's
message as received, plus each node's parent and children; together they rebuild the upstream
``mapping``, so an improved flattener can be run over the whole archive offline."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archiver.flatten.records import FLATTENER_VERSION
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store.save import save_conversation
from archiver.summary import Summary

log = logging.getLogger("archiver.reflatten")


def rebuild_chatgpt_conversation(db: sqlite_utils.Database, conversation_id: str) -> dict[str, Any]:
    """The conversation object as upstream sent it: raw fields plus a mapping rebuilt from the
    stored nodes (nodes marked deleted upstream are left out: upstream no longer had them)."""
    row = db.execute(
        "SELECT raw_json FROM conversations WHERE id = ?", [conversation_id]
    ).fetchone()
    if row is None:
        raise KeyError(conversation_id)
    conv = json.loads(row[0]) if row[0] else {}
    mapping: dict[str, Any] = {}
    for node_id, parent_id, children, raw in db.execute(
        "SELECT id, parent_id, children, raw_json FROM messages "
        "WHERE conversation_id = ? AND deleted_upstream_at IS NULL ORDER BY rowid",
        [conversation_id],
    ):
        node: dict[str, Any] = {"id": node_id}
        if raw is not None:
            node["message"] = json.loads(raw)
        if parent_id is not None:
            node["parent"] = parent_id
        if children is not None:
            node["children"] = json.loads(children)
        mapping[node_id] = node
    conv["mapping"] = mapping
    return conv


@dataclass
class ReflattenSummary(Summary):
    conversations: int = 0
    skipped: int = 0  # rows whose stored raw JSON cannot be read: kept as they are

    @property
    def partial(self) -> bool:
        return bool(self.skipped)


def reflatten(db: sqlite_utils.Database, *, everything: bool = False) -> ReflattenSummary:
    """Re-run the current flattener over archived ChatGPT conversations: those flattened by an
    older flattener version, or all of them. One transaction per conversation."""
    sql = (
        "SELECT id, source, account, list_update_time FROM conversations WHERE provider = 'chatgpt'"
    )
    if not everything:
        sql += " AND coalesce(flattener_version, 0) < ?"
    summary = ReflattenSummary()
    for cid, source, account, listed in db.execute(
        sql, [] if everything else [FLATTENER_VERSION]
    ).fetchall():
        try:
            flat = flatten_conversation(
                rebuild_chatgpt_conversation(db, cid),
                requested_id=cid,
                source=source,
                account=account,
                list_update_time=listed,
            )
        except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            # One corrupt row must not abort the rest; its rows stay as they were.
            summary.skipped += 1
            summary.errors.append(f"{cid}: stored raw JSON cannot be rebuilt ({exc}); skipped")
            continue
        save_conversation(db, flat, force=True)
        summary.conversations += 1
        log.info("re-derived %s: %d messages", cid, len(flat.messages))
    return summary
