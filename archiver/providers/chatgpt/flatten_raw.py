"""An export entry given as JSON bytes → rows, keeping each message's JSON text as it came.

The same rows as ``flatten_conversation`` (same tree, same text, same hash rules), made faster
for the export import: msgspec reads the entry in three cheap steps — the top-level fields as
raw slices, the mapping's nodes with each message still a raw slice, then each message — so
``raw_json`` is the input's own text for that message (no re-encoding, and exactly what the
export said), and nothing is parsed twice into Python objects.

Anything msgspec refuses (a mapping that is not an object of objects, a lone surrogate
escape, a number out of its range) takes the general path: ``json`` and
``flatten_conversation``, which accept every JSON and every broken shape. No I/O here."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from archiver.flatten.content import content_text
from archiver.flatten.records import FlatConversation, dumps
from archiver.flatten.tree import tree_shape
from archiver.providers.chatgpt.flatten import (
    FlattenError,
    MessageFields,
    _may_have_attachments,
    conversation_id_of,
    conversation_row,
    flatten_conversation,
    message_attachment_rows,
    message_fields,
    model_slug_of,
    node_row,
    rebuild_children,
)

_ABSENT: Any = msgspec.UNSET


class _Node(msgspec.Struct):
    """One mapping node; other keys (``id``) are not kept, as in flatten_conversation."""

    message: msgspec.Raw = msgspec.Raw(b"null")
    parent: Any = None
    children: Any = _ABSENT


class _Author(msgspec.Struct):
    role: Any = None
    name: Any = None


class _Metadata(msgspec.Struct):
    """The few metadata keys a row reads; the many others (citations, content references,
    ...) are skipped by the parser without becoming Python objects."""

    is_visually_hidden_from_conversation: Any = None
    is_user_system_message: Any = None
    model_slug: Any = None
    resolved_model_slug: Any = None


class _Message(msgspec.Struct):
    """What message_fields reads of a message. A message of another shape (an author or
    metadata that is not an object, or not an object at all) fails to decode as this and
    takes the general decode instead, so the rows are the same either way."""

    id: Any = None
    author: _Author | None = None
    content: Any = None
    metadata: _Metadata | None = None
    recipient: Any = None
    channel: Any = None
    status: Any = None
    create_time: Any = None


_fields = msgspec.json.Decoder(dict[str, msgspec.Raw])
_message = msgspec.json.Decoder(_Message)
_mapping = msgspec.json.Decoder(dict[str, _Node])
_any = msgspec.json.Decoder()
_NULL = b"null"


class _Fallback(Exception):
    """This entry needs the general path."""


def _decode(raw: Any) -> Any:
    try:
        return _any.decode(raw)
    except msgspec.DecodeError:
        raise _Fallback from None


def flatten_entry(data: bytes, *, source: str = "export") -> FlatConversation:
    """Flatten one export entry (the JSON text of one conversation). Raises FlattenError when
    it is not a conversation at all, ValueError when it is not valid JSON."""
    try:
        return _flatten_fast(data, source)
    except _Fallback:
        pass
    try:
        conv = json.loads(data)
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at byte {exc.start} of the entry") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at byte {exc.pos} of the entry)") from None
    return flatten_conversation(conv, source=source)


def _flatten_fast(data: bytes, source: str) -> FlatConversation:
    try:
        fields = _fields.decode(data)
        raw_mapping = fields.pop("mapping", None)
        nodes = (
            _mapping.decode(raw_mapping)
            if raw_mapping is not None and bytes(raw_mapping) != _NULL
            else None
        )
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise _Fallback from None
    without_mapping = {key: _decode(value) for key, value in fields.items()}
    try:
        cid = conversation_id_of(without_mapping)
    except FlattenError:
        raise _Fallback from None  # let the general path say why
    nodes = nodes or {}
    raws: dict[str, str | None] = {}
    typed: dict[str, Any] = {}  # _Message, or the general decode of another shape, or None
    light: dict[str, dict[str, Any]] = {}  # what the tree arithmetic reads of each node
    for key, node in nodes.items():
        raw = node.message
        shape_node: dict[str, Any] = {"parent": node.parent}
        if node.children is not _ABSENT:
            shape_node["children"] = node.children
        if bytes(raw) == _NULL:  # absent or null: no message
            raws[key] = typed[key] = None
        else:
            try:
                raws[key] = str(raw, "utf-8")
            except UnicodeDecodeError:
                raise _Fallback from None
            try:
                message: Any = _message.decode(raw)
                shape_node["message"] = {"create_time": message.create_time}
            except msgspec.ValidationError:
                message = _decode(raw)
                if isinstance(message, dict):
                    shape_node["message"] = message
            except msgspec.DecodeError:
                raise _Fallback from None
            typed[key] = message
        light[key] = shape_node
    shape = tree_shape(light, without_mapping.get("current_node"))
    rows = []
    for key, node in nodes.items():
        message = typed[key]
        children = None if node.children is _ABSENT else dumps(node.children)
        if isinstance(message, _Message):
            rows.append(_row(cid, key, message, raws[key], node.parent, children, shape))
        else:
            rows.append(message_fields(cid, key, message, raws[key], node.parent, children, shape))
    rebuild_children(rows, shape)
    # Most messages point at no file: a substring test on the text we already have skips them
    # (both attachment shapes need one of these keys).
    attachments = []
    for key, text in raws.items():
        if text is not None and ('"asset_pointer"' in text or '"attachments"' in text):
            message = _decode(text.encode())
            if _may_have_attachments(message):
                attachments += message_attachment_rows(cid, key, message)
    conversation = conversation_row(
        cid, without_mapping, rows, shape, source=source, account="", list_update_time=None
    )
    return FlatConversation(conversation, rows, attachments)


def _row(
    conversation_id: str,
    key: str,
    msg: _Message,
    raw: str | None,
    parent: Any,
    children: str | None,
    shape: Any,
) -> dict[str, Any]:
    """message_fields for a typed message: the same row, read from attributes."""
    author = msg.author
    metadata = msg.metadata
    if metadata is None:
        hidden = model_slug = None
    else:
        hidden = metadata.is_visually_hidden_from_conversation or metadata.is_user_system_message
        model_slug = model_slug_of(metadata.model_slug, metadata.resolved_model_slug)
    content = msg.content
    fields = MessageFields(
        msg.id,
        author.role if author is not None else None,
        author.name if author is not None else None,
        msg.recipient,
        msg.channel,
        content.get("content_type") if isinstance(content, dict) else None,
        content_text(content),
        model_slug,
        msg.status,
        msg.create_time,
        hidden,
    )
    return node_row(conversation_id, key, parent, children, shape, fields, raw)
