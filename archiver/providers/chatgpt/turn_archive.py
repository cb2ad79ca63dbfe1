"""A ChatGPT batch turn as archived: the conversation, shaped like ``conversation/{id}``, of
the nodes already archived plus the turn's streamed messages, so the ordinary flattener stores
it (no second flattener for batch answers)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any


def turn_conversation(
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
