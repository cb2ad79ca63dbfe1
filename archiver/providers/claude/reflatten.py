"""Claude conversations re-derived from the rows already archived (``archiver reflatten``).

The archive keeps each conversation as received without its messages, and each message as
received: together they are the conversation again, so the current flattener runs over the
archive offline. A tree (backup, batch, gateway) goes through ``flatten_tree``; an export's copy,
one branch, through ``flatten_linear`` in its stored order; the knowledge and memory
conversations keep the columns the import gave their messages. Messages marked gone upstream
are left out (upstream no longer had them). Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.records import FlatConversation
from archiver.flatten.stored import stored_conversation
from archiver.providers.claude.flatten import flatten_linear, flatten_tree
from archiver.providers.claude.knowledge import MEMORY_PREFIX, PROJECT_PREFIX

_KEPT = ("role", "author_name", "content_type", "text")  # what the import chose itself


def reflatten_rows(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    stored = stored_conversation(conversation)
    cid = str(conversation["id"])
    source = conversation.get("source") or "api"
    account = conversation.get("account") or ""
    live = [row for row in messages if row.get("deleted_upstream_at") is None]
    if source != "export" and not cid.startswith((PROJECT_PREFIX, MEMORY_PREFIX)):
        chat = {**stored, "uuid": cid, "chat_messages": [_message(row) for row in live]}
        return flatten_tree(
            chat,
            requested_id=cid,
            source=source,
            account=account,
            list_update_time=conversation.get("list_update_time"),
        )
    ordered = sorted(live, key=lambda row: row.get("depth") or 0)
    chat = {**stored, "uuid": cid, "chat_messages": [_message(row) for row in ordered]}
    synthetic = cid.startswith((PROJECT_PREFIX, MEMORY_PREFIX))
    columns = [{key: row.get(key) for key in _KEPT} for row in ordered] if synthetic else None
    return flatten_linear(chat, source=source, account=account, columns=columns)


def _message(row: Mapping[str, Any]) -> dict[str, Any]:
    value = json.loads(row["raw_json"]) if row.get("raw_json") else {}
    if not isinstance(value, dict):
        raise ValueError(f"message {row.get('id')} is not an object")
    return value


rebuild = reflatten_rows  # the name the contract gives it (archiver/providers/modules.py)
