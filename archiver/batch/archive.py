"""Build the archived copy of a batch conversation from what the answer streams returned — pure,
no I/O. No extra request per prompt: every request counts against the account's allowance.

A thread grows one turn at a time, and ``save_conversation`` marks nodes missing from the
saved object as deleted upstream, so each save carries the whole conversation so far: the
nodes already archived (read back by the caller) plus the new turn's messages.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

BATCH_SOURCE = "batch"


def chatgpt_conversation(
    conversation_id: str,
    *,
    existing_nodes: Sequence[dict[str, Any]],
    parent_id: str,
    new_messages: Sequence[dict[str, Any]],
    title: str | None = None,
    model: str | None = None,
    header: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``conversation/{id}``-shaped object: the archived nodes, then the turn's messages
    chained in stream order under ``parent_id`` (the ``parent_message_id`` that was sent; for a
    first turn that is the root, added here as a node without a message)."""
    nodes: dict[str, dict[str, Any]] = {}
    for node in existing_nodes:
        nodes[node["id"]] = {
            "id": node["id"],
            "message": node.get("message"),
            "parent": node.get("parent"),
            "children": [],
        }
    if parent_id not in nodes:
        nodes[parent_id] = {"id": parent_id, "message": None, "parent": None, "children": []}
    previous = parent_id
    for message in new_messages:
        ident = message["id"]
        if ident in nodes:  # the same message seen again (a continued answer): newest wins
            nodes[ident]["message"] = message
        else:
            nodes[ident] = {"id": ident, "message": message, "parent": previous, "children": []}
        previous = ident
    for ident, node in nodes.items():
        parent = node["parent"]
        if parent in nodes and ident not in nodes[parent]["children"]:
            nodes[parent]["children"].append(ident)
    times = [
        m["create_time"]
        for n in nodes.values()
        if isinstance(m := n.get("message"), dict) and isinstance(m.get("create_time"), int | float)
    ]
    header = header or {}
    create_time: Any = header.get("create_time") or (min(times) if times else time.time())
    return {
        "conversation_id": conversation_id,
        "title": title or header.get("title"),
        "create_time": create_time,
        "update_time": max(times) if times else time.time(),
        "mapping": nodes,
        "current_node": previous,
        "default_model_slug": model or None,
        "is_archived": False,
    }


def user_message(message_id: str, prompt: str) -> dict[str, Any]:
    """The prompt as sent, for when the stream does not echo it back."""
    return {
        "id": message_id,
        "author": {"role": "user", "name": None, "metadata": {}},
        "create_time": time.time(),
        "content": {"content_type": "text", "parts": [prompt]},
        "status": "finished_successfully",
        "metadata": {},
        "recipient": "all",
    }


def merge_flat_messages(
    existing: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]], *, key: str
) -> list[dict[str, Any]]:
    """A flat history: the archived messages, then the turn's messages not already there
    (by ``key``; a message without one is always added)."""
    merged = list(existing)
    seen = {m.get(key) for m in merged if m.get(key)}
    for message in new:
        ident = message.get(key)
        if ident and ident in seen:
            continue
        if ident:
            seen.add(ident)
        merged.append(message)
    return merged
