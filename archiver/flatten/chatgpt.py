"""ChatGPT conversation JSON (backend-api ``conversation/{id}`` or an export entry) → rows.

One row per mapping node, every branch kept; the node's message is kept whole in ``raw_json``
and the conversation without its mapping in the conversation's ``raw_json``."""

from __future__ import annotations

from typing import Any

from archiver.flatten.content import content_text
from archiver.flatten.records import (
    FLATTENER_VERSION,
    FlatConversation,
    as_dict,
    as_str,
    content_hash,
    dumps,
)
from archiver.flatten.tree import children_of, tree_shape
from archiver.timeutil import to_iso


class FlattenError(ValueError):
    """The object cannot be a conversation at all (not an object, no id anywhere)."""


def conversation_id_of(conv: dict[str, Any], requested_id: str | None = None) -> str:
    """Detail responses have no ``id`` (only ``conversation_id``); exports add ``id``; very old
    responses have neither, and then the id we asked for is the id."""
    for candidate in (conv.get("id"), conv.get("conversation_id"), requested_id):
        if isinstance(candidate, str) and candidate:
            return candidate
    raise FlattenError("conversation has no id")


def _bool_int(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _raw_message(node: Any) -> str | None:
    """The node's message as received; a node that is not even an object is kept whole."""
    if not isinstance(node, dict):
        return dumps(node)
    message = node.get("message")
    return None if message is None else dumps(message)


def message_row(conversation_id: str, key: str, node: Any, shape: Any) -> dict[str, Any]:
    node_dict = as_dict(node)
    message = node_dict.get("message")
    msg = as_dict(message)
    author = as_dict(msg.get("author"))
    metadata = as_dict(msg.get("metadata"))
    content = msg.get("content")
    hidden = metadata.get("is_visually_hidden_from_conversation") or metadata.get(
        "is_user_system_message"
    )
    return {
        "conversation_id": conversation_id,
        "id": key,
        "message_id": as_str(msg.get("id")),
        # Upstream's word, even when it names a missing node; the resolved tree is in depth.
        "parent_id": as_str(node_dict.get("parent")) or shape.parent.get(key),
        "children": dumps(node_dict["children"]) if "children" in node_dict else None,
        "position": shape.position[key],
        "depth": shape.depth[key],
        "on_current_branch": int(key in shape.current_branch),
        "role": as_str(author.get("role")),
        "author_name": as_str(author.get("name")),
        "recipient": as_str(msg.get("recipient")),
        "channel": as_str(msg.get("channel")),
        "content_type": as_str(as_dict(content).get("content_type")),
        "text": content_text(content) if message is not None else None,
        "model_slug": as_str(metadata.get("model_slug"))
        or as_str(metadata.get("resolved_model_slug")),
        "status": as_str(msg.get("status")),
        "create_time": to_iso(msg.get("create_time")),
        "is_hidden": int(bool(hidden)),
        "raw_json": _raw_message(node),
    }


def attachment_rows(conversation_id: str, key: str, node: Any) -> list[dict[str, Any]]:
    """Asset pointers in multimodal parts and ``metadata.attachments`` → attachment rows."""
    msg = as_dict(as_dict(node).get("message"))
    rows: dict[str, dict[str, Any]] = {}
    parts = as_dict(msg.get("content")).get("parts")
    for part in parts if isinstance(parts, list) else []:
        pointer = as_str(as_dict(part).get("asset_pointer"))
        if pointer:
            rows[pointer] = {"size_bytes": as_dict(part).get("size_bytes"), "mime_type": None}
    attachments = as_dict(msg.get("metadata")).get("attachments")
    for item in attachments if isinstance(attachments, list) else []:
        item = as_dict(item)
        ident = as_str(item.get("id"))
        if ident:
            rows.setdefault(ident, {}).update(
                {
                    "size_bytes": item.get("size"),
                    "mime_type": as_str(item.get("mime_type")) or as_str(item.get("mimeType")),
                    "file_name": as_str(item.get("name")),
                }
            )
    return [
        {
            "conversation_id": conversation_id,
            "message_node_id": key,
            "asset_pointer": pointer,
            "file_name": info.get("file_name"),
            "mime_type": info.get("mime_type"),
            "size_bytes": info.get("size_bytes")
            if isinstance(info.get("size_bytes"), int)
            else None,
        }
        for pointer, info in rows.items()
    ]


def _without_export_id(conv: dict[str, Any]) -> dict[str, Any]:
    """The export adds ``id`` (equal to ``conversation_id``) to the object the API serves; it is
    not a change, so it does not count in the content hash."""
    if "id" in conv and conv.get("id") == conv.get("conversation_id"):
        return {k: v for k, v in conv.items() if k != "id"}
    return conv


def flatten_conversation(
    conv: Any,
    *,
    requested_id: str | None = None,
    source: str = "api",
    account: str = "",
    list_update_time: str | None = None,
) -> FlatConversation:
    """Flatten one ChatGPT conversation object. Never raises for a broken tree; raises
    FlattenError only when the object is not a conversation at all."""
    if not isinstance(conv, dict):
        raise FlattenError(f"conversation is a {type(conv).__name__}, not an object")
    cid = conversation_id_of(conv, requested_id)
    raw_mapping = conv.get("mapping")
    mapping: dict[str, Any] = raw_mapping if isinstance(raw_mapping, dict) else {}
    shape = tree_shape(mapping, conv.get("current_node"))
    messages = [message_row(cid, key, node, shape) for key, node in mapping.items()]
    attachments = [row for key, node in mapping.items() for row in attachment_rows(cid, key, node)]
    without_mapping = {k: v for k, v in conv.items() if k != "mapping"}
    if not isinstance(raw_mapping, dict) and raw_mapping is not None:
        without_mapping["mapping"] = raw_mapping  # not a tree: keep it rather than lose it
    conversation = {
        "id": cid,
        "provider": "chatgpt",
        "account": account,
        "title": as_str(conv.get("title")),
        "create_time": to_iso(conv.get("create_time")),
        "update_time": to_iso(conv.get("update_time")),
        "list_update_time": list_update_time,
        "current_node": shape.current_node,
        "is_archived": _bool_int(conv.get("is_archived")),
        "default_model_slug": as_str(conv.get("default_model_slug")),
        "gizmo_id": as_str(conv.get("gizmo_id")),
        "node_count": len(mapping),
        "source": source,
        "content_hash": content_hash(_without_export_id(conv)),
        "flattener_version": FLATTENER_VERSION,
        "raw_json": dumps(without_mapping),
    }
    return FlatConversation(conversation, messages, attachments)


__all__ = ["FlattenError", "children_of", "conversation_id_of", "flatten_conversation"]
