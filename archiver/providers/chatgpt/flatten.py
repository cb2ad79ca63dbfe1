"""ChatGPT conversation JSON (backend-api ``conversation/{id}`` or an export entry) → rows.

One row per mapping node, every branch kept; the node's message is kept whole in ``raw_json``
and the conversation without its mapping in the conversation's ``raw_json``."""

from __future__ import annotations

from typing import Any, NamedTuple

from archiver.flatten.content import asset_pointer_objects, content_text
from archiver.flatten.records import FlatConversation, dumps, tree_hash
from archiver.flatten.tree import TreeShape, children_of, tree_shape
from archiver.loosejson import as_dict, as_str
from archiver.providers.chatgpt.options import FLATTENER_VERSION
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


_EMPTY: dict[str, Any] = {}  # read-only stand-in for a missing or non-object field


def message_row(conversation_id: str, key: str, node: Any, shape: Any) -> dict[str, Any]:
    """One node as a row (the node's message re-encoded for ``raw_json``)."""
    if isinstance(node, dict):
        message = node.get("message")
        children = dumps(node["children"]) if "children" in node else None
        raw = None if message is None else dumps(message)
        return message_fields(
            conversation_id, key, message, raw, node.get("parent"), children, shape
        )
    # Not even an object: keep it whole.
    return message_fields(conversation_id, key, None, dumps(node), None, None, shape)


def message_fields(
    conversation_id: str,
    key: str,
    message: Any,
    raw: str | None,
    parent: Any,
    children: str | None,
    shape: Any,
) -> dict[str, Any]:
    """One node as a row, from its parts: ``raw`` is the message's JSON text (sliced from the
    input by the export import, re-encoded otherwise), ``children`` the JSON of its children.
    Runs for every node of every import, so it reads each field once, with inline type checks
    instead of helper calls (same results as as_dict/as_str)."""
    msg = message if isinstance(message, dict) else _EMPTY
    author = msg.get("author")
    if not isinstance(author, dict):
        author = _EMPTY
    metadata = msg.get("metadata")
    if not isinstance(metadata, dict):
        metadata = _EMPTY
    content = msg.get("content")
    hidden = metadata.get("is_visually_hidden_from_conversation") or metadata.get(
        "is_user_system_message"
    )
    fields = MessageFields(
        msg.get("id"),
        author.get("role"),
        author.get("name"),
        msg.get("recipient"),
        msg.get("channel"),
        content.get("content_type") if isinstance(content, dict) else None,
        content_text(content) if message is not None else None,
        model_slug_of(metadata.get("model_slug"), metadata.get("resolved_model_slug")),
        msg.get("status"),
        msg.get("create_time"),
        hidden,
    )
    return node_row(conversation_id, key, parent, children, shape, fields, raw)


class MessageFields(NamedTuple):
    """What a row reads off a node's message, as read (a dict in message_fields, a typed
    struct in flatten_raw's fast path); node_row checks the types."""

    message_id: Any
    role: Any
    author_name: Any
    recipient: Any
    channel: Any
    content_type: Any
    text: str | None
    model_slug: str | None
    status: Any
    create_time: Any
    hidden: Any


def model_slug_of(slug: Any, resolved: Any) -> str | None:
    """The model that answered: ``model_slug``, else ``resolved_model_slug`` (2025 on)."""
    if isinstance(slug, str) and slug:
        return slug
    return resolved if isinstance(resolved, str) else None


def node_row(
    conversation_id: str,
    key: str,
    parent: Any,
    children: str | None,
    shape: Any,
    fields: MessageFields,
    raw: str | None,
) -> dict[str, Any]:
    """The messages row of a node, from where it sits in the tree and what its message says:
    one place that says what a row holds. Values of the wrong type become NULL."""
    (
        message_id,
        role,
        name,
        recipient,
        channel,
        content_type,
        text,
        model_slug,
        status,
        create_time,
        hidden,
    ) = fields
    return {
        "conversation_id": conversation_id,
        "id": key,
        "message_id": message_id if isinstance(message_id, str) else None,
        # Upstream's word, even when it names a missing node; the resolved tree is in depth.
        "parent_id": parent if isinstance(parent, str) and parent else shape.parent.get(key),
        "children": children,
        "position": shape.position[key],
        "depth": shape.depth[key],
        "on_current_branch": int(key in shape.current_branch),
        "role": role if isinstance(role, str) else None,
        "author_name": name if isinstance(name, str) else None,
        "recipient": recipient if isinstance(recipient, str) else None,
        "channel": channel if isinstance(channel, str) else None,
        "content_type": content_type if isinstance(content_type, str) else None,
        "text": text,
        "model_slug": model_slug,
        "status": status if isinstance(status, str) else None,
        "create_time": to_iso(create_time),
        "is_hidden": int(bool(hidden)),
        "raw_json": raw,
    }


def _may_have_attachments(message: Any) -> bool:
    """Cheap pre-check for attachment_rows: an object among the parts or a metadata
    ``attachments`` list (most messages have neither)."""
    if not isinstance(message, dict):
        return False
    content = message.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if isinstance(parts, list) and any(isinstance(part, dict) for part in parts):
        return True
    metadata = message.get("metadata")
    return isinstance(metadata, dict) and isinstance(metadata.get("attachments"), list)


def attachment_rows(conversation_id: str, key: str, node: Any) -> list[dict[str, Any]]:
    """Asset pointers in multimodal parts and ``metadata.attachments`` → attachment rows."""
    return message_attachment_rows(conversation_id, key, as_dict(node).get("message"))


def _media_type(pointer: dict[str, Any]) -> str | None:
    """``audio/wav``, ``video/mp4``: what a voice-mode pointer says of its file's kind."""
    kind, form = pointer.get("content_type"), pointer.get("format")
    if not isinstance(kind, str) or not isinstance(form, str) or not form.isalnum():
        return None
    for media in ("audio", "video"):
        if kind.startswith(media):
            return f"{media}/{form.lower()}"
    return None


def message_attachment_rows(conversation_id: str, key: str, message: Any) -> list[dict[str, Any]]:
    msg = as_dict(message)
    rows: dict[str, dict[str, Any]] = {}
    parts = as_dict(msg.get("content")).get("parts")
    for part in parts if isinstance(parts, list) else []:
        for found in asset_pointer_objects(part):  # voice mode nests them: every one counts
            rows[found["asset_pointer"]] = {
                "size_bytes": found.get("size_bytes"),
                "mime_type": _media_type(found),
            }
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


def rebuild_children(messages: list[dict[str, Any]], shape: TreeShape) -> None:
    """Slimmed export files drop the ``children`` key and keep only ``parent``: give such nodes
    the children their parent links name, in file (mapping) order, so the stored tree is whole."""
    missing = [row for row in messages if row["children"] is None]
    if not missing:
        return
    kids: dict[str, list[str]] = {}
    for row in messages:  # mapping order
        parent = shape.parent.get(row["id"])
        if parent is not None:
            kids.setdefault(parent, []).append(row["id"])
    for row in missing:
        row["children"] = dumps(kids.get(row["id"], []))


def conversation_row(
    cid: str,
    without_mapping: dict[str, Any],
    messages: list[dict[str, Any]],
    shape: TreeShape,
    *,
    source: str,
    account: str,
    list_update_time: str | None,
) -> dict[str, Any]:
    """The conversation's own row: its fields, the hash of everything kept, its raw JSON."""
    return {
        "id": cid,
        "provider": "chatgpt",
        "account": account,
        "title": as_str(without_mapping.get("title")),
        "create_time": to_iso(without_mapping.get("create_time")),
        "update_time": to_iso(without_mapping.get("update_time")),
        "list_update_time": list_update_time,
        "current_node": shape.current_node,
        "is_archived": _bool_int(without_mapping.get("is_archived")),
        "default_model_slug": as_str(without_mapping.get("default_model_slug")),
        "gizmo_id": as_str(without_mapping.get("gizmo_id")),
        "node_count": len(messages),
        "source": source,
        "content_hash": tree_hash(_without_export_id(without_mapping), messages),
        "flattener_version": FLATTENER_VERSION,
        "raw_json": dumps(without_mapping),
    }


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
    rebuild_children(messages, shape)
    attachments = [
        row
        for key, node in mapping.items()
        if isinstance(node, dict) and _may_have_attachments(node.get("message"))
        for row in attachment_rows(cid, key, node)
    ]
    without_mapping = {k: v for k, v in conv.items() if k != "mapping"}
    if not isinstance(raw_mapping, dict) and raw_mapping is not None:
        without_mapping["mapping"] = raw_mapping  # not a tree: keep it rather than lose it
    conversation = conversation_row(
        cid,
        without_mapping,
        messages,
        shape,
        source=source,
        account=account,
        list_update_time=list_update_time,
    )
    return FlatConversation(conversation, messages, attachments)


__all__ = ["FlattenError", "children_of", "conversation_id_of", "flatten_conversation"]
