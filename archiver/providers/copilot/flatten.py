"""A Copilot conversation (list entry + history, oldest message first) → rows. Pure.

History is a flat chronological list: each message is one row whose parent is the previous
message (like Bing), so the same tree queries and views work. ``text`` is the message's
``text`` parts joined in order (an answer may span several); the raw message is kept whole.
Citations, images and documents become attachment rows (image URLs recorded as pointers)."""

from __future__ import annotations

from typing import Any

from archiver.flatten.records import (
    FLATTENER_VERSION,
    FlatConversation,
    as_dict,
    as_str,
    content_hash,
    dumps,
)
from archiver.timeutil import to_iso

PROVIDER = "copilot"
TEXT_JOIN = "\n\n"  # text parts are blocks (each ends with its own partCompleted)
_ROLES = {"human": "user", "user": "user", "groupparticipant": "user", "ai": "assistant"}
_ROLES.update(bot="assistant", assistant="assistant", copilot="assistant")
# Parts that say how an answer was made rather than what it says: a message made only of
# these (and no text) is kept but hidden from the visible chat.
_SIDE_PARTS = {"chainofthought", "websearch", "task", "deleted", "shellcommandexecution"}
_SIDE_PARTS.add("computeruse")


class CopilotFlattenError(ValueError):
    """The answer cannot be a Copilot conversation at all."""


def _parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, dict):  # a single part not wrapped in a list
        content = [content]
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []


def _kind(part: dict[str, Any]) -> str:
    return str(part.get("type") or "").lower()


def message_text(message: dict[str, Any]) -> str | None:
    """The ``text`` parts' texts in order, joined; a message with a plain ``text`` field (an
    older shape) falls back to it."""
    texts = [
        part["text"]
        for part in _parts(message)
        if _kind(part) == "text" and isinstance(part.get("text"), str) and part["text"]
    ]
    if texts:
        return TEXT_JOIN.join(texts)
    return as_str(message.get("text"))


def role_of(message: dict[str, Any]) -> str | None:
    author = message.get("author")
    kind = as_str(author.get("type")) if isinstance(author, dict) else as_str(author)
    if not kind:
        return None
    return _ROLES.get(kind.lower(), kind)


def _is_hidden(message: dict[str, Any], text: str | None) -> bool:
    parts = _parts(message)
    if text or not parts:
        return False
    return all(_kind(p) in _SIDE_PARTS for p in parts)


def _content_type(message: dict[str, Any]) -> str:
    kinds = [_kind(p) for p in _parts(message)]
    if "text" in kinds or not kinds:
        return "text"
    return kinds[0] or "text"


def attachment_rows(conversation_id: str, key: str, message: dict[str, Any]) -> list[Any]:
    """Citations (their URL), images (URL, thumbnail as fallback), documents (attachment id,
    or the file name when there is none) as attachment rows, once per pointer."""
    rows: dict[str, dict[str, Any]] = {}
    for part in _parts(message):
        kind = _kind(part)
        pointer: str | None = None
        name: str | None = None
        mime: str | None = None
        if kind == "citation":
            pointer = as_str(part.get("url"))
            name = as_str(part.get("title")) or as_str(part.get("publisher"))
        elif kind in ("image", "imagegenerated", "generatedimage"):
            pointer = as_str(part.get("url")) or as_str(part.get("thumbnailUrl"))
            name = as_str(part.get("fileName")) or as_str(part.get("prompt"))
            mime = as_str(part.get("contentType"))
        elif kind in ("document", "textfile", "file"):
            pointer = as_str(part.get("attachmentId")) or as_str(part.get("fileName"))
            name = as_str(part.get("fileName"))
            mime = as_str(part.get("contentType"))
        if pointer and pointer not in rows:
            rows[pointer] = {
                "conversation_id": conversation_id,
                "message_node_id": key,
                "asset_pointer": pointer,
                "file_name": name,
                "mime_type": mime,
                "size_bytes": part.get("size") if isinstance(part.get("size"), int) else None,
            }
    return list(rows.values())


def _derived_id(message: dict[str, Any]) -> str:
    basis = [message.get("author"), message.get("createdAt"), message.get("content")]
    if not any(basis):
        basis = [message]
    return "derived-" + content_hash(basis)[:16]


def _node_ids(messages: list[dict[str, Any]]) -> list[str]:
    """Each message's ``id``; a missing one derived, a repeated one suffixed ``~n``: unique
    and stable across runs."""
    ids: list[str] = []
    used: set[str] = set()
    for message in messages:
        base = as_str(message.get("id")) or as_str(message.get("messageId"))
        base = base or _derived_id(message)
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}~{n}"
        used.add(candidate)
        ids.append(candidate)
    return ids


def message_rows(
    conversation_id: str, messages: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ids = _node_ids(messages)
    rows: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for index, (key, message) in enumerate(zip(ids, messages, strict=True)):
        text = message_text(message)
        author = as_dict(message.get("author"))
        rows.append(
            {
                "conversation_id": conversation_id,
                "id": key,
                "message_id": as_str(message.get("id")) or as_str(message.get("messageId")),
                "parent_id": ids[index - 1] if index else None,
                "children": dumps([ids[index + 1]] if index + 1 < len(ids) else []),
                "position": 0,
                "depth": index,
                "on_current_branch": 1,
                "role": role_of(message),
                "author_name": as_str(author.get("name")) or as_str(author.get("displayName")),
                "recipient": None,
                "channel": None,
                "content_type": _content_type(message),
                "text": text,
                "model_slug": as_str(message.get("mode")),
                "status": as_str(message.get("streamingState")),
                "create_time": to_iso(message.get("createdAt")),
                "is_hidden": int(_is_hidden(message, text)),
                "raw_json": dumps(message),
            }
        )
        attachments.extend(attachment_rows(conversation_id, key, message))
    return rows, attachments


def flatten_copilot_conversation(
    entry: dict[str, Any] | None,
    history: Any,
    *,
    requested_id: str | None = None,
    account: str = "",
    source: str = "api",
    list_update_time: str | None = None,
) -> FlatConversation:
    """``entry`` is the list entry (may be empty: a retry of an earlier failure), ``history``
    ``{"messages": [...oldest first]}`` as the client assembles it (a bare list is accepted)."""
    if isinstance(history, list):
        history = {"messages": history}
    if not isinstance(history, dict):
        raise CopilotFlattenError(f"history answer is a {type(history).__name__}")
    chat = as_dict(entry)
    cid = as_str(chat.get("id")) or as_str(history.get("conversationId")) or requested_id
    if not cid:
        raise CopilotFlattenError("conversation has no id")
    raw_messages = history.get("messages")
    messages = (
        [m for m in raw_messages if isinstance(m, dict)] if isinstance(raw_messages, list) else []
    )
    rows, attachments = message_rows(cid, messages)
    times = [row["create_time"] for row in rows if row["create_time"]]
    stored = {"conversation": chat}
    extra = {k: v for k, v in history.items() if k not in ("messages", "pages")}
    if extra:
        stored["history"] = extra
    update_time = (
        to_iso(chat.get("updatedAt"))
        or to_iso(chat.get("continuedAt"))
        or (max(times) if times else None)
    )
    conversation = {
        "id": cid,
        "provider": PROVIDER,
        "account": account,
        "title": as_str(chat.get("title")) or as_str(history.get("title")),
        # The list has no creation time: the first message's.
        "create_time": to_iso(chat.get("createdAt")) or (min(times) if times else None),
        "update_time": update_time,
        "list_update_time": list_update_time,
        "current_node": rows[-1]["id"] if rows else None,
        "is_archived": None,
        "default_model_slug": None,
        "gizmo_id": as_str(chat.get("projectId")),
        "node_count": len(rows),
        "source": source,
        "content_hash": content_hash({"conversation": chat, "messages": messages}),
        "flattener_version": FLATTENER_VERSION,
        "raw_json": dumps(stored),
    }
    return FlatConversation(conversation, rows, attachments)


__all__ = [
    "PROVIDER",
    "TEXT_JOIN",
    "CopilotFlattenError",
    "attachment_rows",
    "flatten_copilot_conversation",
    "message_rows",
    "message_text",
    "role_of",
]
