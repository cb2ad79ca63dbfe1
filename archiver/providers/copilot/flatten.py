"""A Copilot conversation (list entry + history, oldest message first) → rows. Pure.

History is a flat chronological list: each message is one row whose parent is the previous
message (like Bing), so the same tree queries and views work. ``text`` is the message's
``text`` parts joined in order (an answer may span several); the raw message is kept whole.
Citations, images and documents become attachment rows (image URLs recorded as pointers)."""

from __future__ import annotations

from typing import Any

from archiver.flatten.linear import (
    LinearChat,
    LinearFlattener,
    chain_columns,
    derived_id,
    unique_ids,
)
from archiver.flatten.records import dumps
from archiver.loosejson import as_dict, as_str
from archiver.providers.copilot.options import PROVIDER
from archiver.timeutil import to_iso

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


IMAGE_KINDS = ("image", "imagegenerated", "generatedimage")


def image_urls(message: dict[str, Any]) -> set[str]:
    """The URL each image part is archived under (``url``, else ``thumbnailUrl``)."""
    urls = set()
    for part in _parts(message):
        if _kind(part) in IMAGE_KINDS:
            url = as_str(part.get("url")) or as_str(part.get("thumbnailUrl"))
            if url:
                urls.add(url)
    return urls


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
        elif kind in IMAGE_KINDS:
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


def _node_ids(messages: list[dict[str, Any]]) -> list[str]:
    """Each message's ``id``; a missing one derived, a repeated one suffixed."""
    return unique_ids(
        as_str(message.get("id"))
        or as_str(message.get("messageId"))
        or derived_id(
            message, [message.get("author"), message.get("createdAt"), message.get("content")]
        )
        for message in messages
    )


def message_rows(
    conversation_id: str, messages: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ids = _node_ids(messages)
    rows: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        text = message_text(message)
        author = as_dict(message.get("author"))
        rows.append(
            {
                **chain_columns(conversation_id, ids, index),
                "message_id": as_str(message.get("id")) or as_str(message.get("messageId")),
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
        attachments.extend(attachment_rows(conversation_id, ids[index], message))
    return rows, attachments


def read_copilot_chat(chat: dict[str, Any], history: Any, requested_id: str | None) -> LinearChat:
    """``chat`` is the list entry (may be empty: a retry of an earlier failure), ``history``
    ``{"messages": [...oldest first]}`` as the client assembles it (a bare list is accepted)."""
    if isinstance(history, list):
        history = {"messages": history}
    if not isinstance(history, dict):
        raise CopilotFlattenError(f"history answer is a {type(history).__name__}")
    cid = as_str(chat.get("id")) or as_str(history.get("conversationId")) or requested_id
    if not cid:
        raise CopilotFlattenError("conversation has no id")
    raw_messages = history.get("messages")
    messages = (
        [m for m in raw_messages if isinstance(m, dict)] if isinstance(raw_messages, list) else []
    )
    rows, attachments = message_rows(cid, messages)
    stored = {"conversation": chat}
    extra = {k: v for k, v in history.items() if k not in ("messages", "pages")}
    if extra:
        stored["history"] = extra
    return LinearChat(
        id=cid,
        provider=PROVIDER,
        rows=rows,
        title=as_str(chat.get("title")) or as_str(history.get("title")),
        # The list has no creation time: the first message's.
        create_time=to_iso(chat.get("createdAt")),
        update_time=to_iso(chat.get("updatedAt")) or to_iso(chat.get("continuedAt")),
        hashed={"conversation": chat, "messages": messages},
        stored=stored,
        gizmo_id=as_str(chat.get("projectId")),
        attachments=attachments,
    )


flatten_copilot_conversation = LinearFlattener(read_copilot_chat)


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
