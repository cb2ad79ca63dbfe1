"""A Bing chat (saved-list entry + GetConversation answer) → rows.

Bing history is a flat chronological list, not a tree: each message becomes one node whose
parent is the previous message, so the same tree queries work for both providers. Side messages
(search queries, loaders, suggestions, disengagement notes) are kept but marked hidden, so the
visible chat is ``WHERE is_hidden = 0``. Signatures are credentials: they are dropped from what
is stored."""

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

PROVIDER = "bing"
_ROLES = {"user": "user", "bot": "assistant"}
# Container elements whose children hold more card elements.
_CARD_CHILD_KEYS = ("body", "items", "columns", "inlines", "actions", "card")


class BingFlattenError(ValueError):
    """The answer cannot be a Bing conversation at all."""


def drop_signatures(value: Any) -> Any:
    """A copy without any key naming a signature (``conversationSignature``,
    ``encryptedConversationSignature``, ...): they are credentials, never stored."""
    if isinstance(value, dict):
        return {
            key: drop_signatures(item)
            for key, item in value.items()
            if "signature" not in str(key).lower()
        }
    if isinstance(value, list):
        return [drop_signatures(item) for item in value]
    return value


def adaptive_card_text(message: dict[str, Any]) -> str:
    """The TextBlock texts of ``adaptiveCards[].body[]`` (nested containers included), in
    document order, joined by blank lines. Walked iteratively: cards can nest deeply."""
    texts: list[str] = []
    cards = message.get("adaptiveCards")
    stack: list[Any] = list(reversed(cards)) if isinstance(cards, list) else []
    while stack:
        element = stack.pop()
        if isinstance(element, list):
            stack.extend(reversed(element))
            continue
        if not isinstance(element, dict):
            continue
        text = element.get("text")
        if (
            element.get("type") in ("TextBlock", "TextRun")
            and isinstance(text, str)
            and text.strip()
        ):
            texts.append(text)
        for key in reversed(_CARD_CHILD_KEYS):
            child = element.get(key)
            if isinstance(child, list | dict):
                stack.append(child)
    return "\n\n".join(texts)


def is_hidden_message(message: dict[str, Any]) -> bool:
    """Ordinary chat has no ``messageType`` (or ``Chat``); everything else is a side message:
    Internal*, Suggestion(s), Disengaged, RenderCardRequest, GenerateContentQuery, ..."""
    kind = message.get("messageType")
    return isinstance(kind, str) and kind not in ("", "Chat")


def _derived_id(message: Any) -> str:
    """A stable id for a message without one: the same message gets the same id next run."""
    msg = as_dict(message)
    basis = [
        msg.get("author"),
        msg.get("createdAt"),
        msg.get("timestamp"),
        msg.get("requestId"),
        msg.get("messageType"),
        msg.get("text"),
    ]
    if not any(basis):
        basis = [message]
    return "derived-" + content_hash(basis)[:16]


def _node_ids(messages: list[Any]) -> list[str]:
    """The messageId of each message; a missing one is derived, a repeated one gets a ``~n``
    suffix (the second occurrence ``~2``), so ids are unique and stable across runs."""
    ids: list[str] = []
    used: set[str] = set()
    for message in messages:
        base = as_str(as_dict(message).get("messageId")) or _derived_id(message)
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}~{n}"
        used.add(candidate)
        ids.append(candidate)
    return ids


def _message_text(message: dict[str, Any]) -> str | None:
    text = as_str(message.get("text"))
    if not (text or "").strip() and message.get("author") == "bot":
        card_text = adaptive_card_text(message)
        if card_text:
            return card_text
    return text


def message_rows(conversation_id: str, messages: list[Any]) -> list[dict[str, Any]]:
    ids = _node_ids(messages)
    rows = []
    for index, (key, message) in enumerate(zip(ids, messages, strict=True)):
        msg = as_dict(message)
        author = as_str(msg.get("author"))
        kind = as_str(msg.get("messageType"))
        rows.append(
            {
                "conversation_id": conversation_id,
                "id": key,
                "message_id": as_str(msg.get("messageId")),
                "parent_id": ids[index - 1] if index else None,
                "children": dumps([ids[index + 1]] if index + 1 < len(ids) else []),
                "position": 0,
                "depth": index,
                "on_current_branch": 1,
                "role": _ROLES.get(author, author) if author else None,
                "author_name": as_str(as_dict(msg.get("from")).get("name")),
                "recipient": None,
                "channel": None,
                "content_type": kind or "text",
                "text": _message_text(msg),
                "model_slug": None,
                "status": None,
                "create_time": to_iso(msg.get("createdAt")) or to_iso(msg.get("timestamp")),
                "is_hidden": int(is_hidden_message(msg)),
                "raw_json": dumps(drop_signatures(message)),
            }
        )
    return rows


def flatten_bing_conversation(
    chat: dict[str, Any] | None,
    history: Any,
    *,
    requested_id: str | None = None,
    account: str = "",
    source: str = "api",
    list_update_time: str | None = None,
) -> FlatConversation:
    """Flatten one chat: ``chat`` is its saved-list entry (may be empty, e.g. for a retry of an
    earlier failure), ``history`` the GetConversation answer. Raises BingFlattenError only when
    the answer is not a conversation at all."""
    if not isinstance(history, dict):
        raise BingFlattenError(f"GetConversation answer is a {type(history).__name__}")
    entry = drop_signatures(as_dict(chat))
    answer = drop_signatures(history)
    cid = (
        as_str(entry.get("conversationId")) or as_str(answer.get("conversationId")) or requested_id
    )
    if not cid:
        raise BingFlattenError("conversation has no conversationId")
    raw_messages = answer.get("messages")
    messages: list[Any] = raw_messages if isinstance(raw_messages, list) else []
    rows = message_rows(cid, messages)
    without_messages = {k: v for k, v in answer.items() if k != "messages"}
    if raw_messages is not None and not isinstance(raw_messages, list):
        without_messages["messages"] = raw_messages  # not a list: keep it rather than lose it
    stored = {"chat": entry, "conversation": without_messages}
    message_times = [row["create_time"] for row in rows if row["create_time"]]
    conversation = {
        "id": cid,
        "provider": PROVIDER,
        "account": account,
        "title": as_str(entry.get("chatName")) or as_str(answer.get("defaultChatName")),
        "create_time": to_iso(entry.get("createTimeUtc"))
        or (min(message_times) if message_times else None),
        "update_time": to_iso(entry.get("updateTimeUtc"))
        or (max(message_times) if message_times else None),
        "list_update_time": list_update_time,
        "current_node": rows[-1]["id"] if rows else None,
        "is_archived": None,
        "default_model_slug": None,
        "gizmo_id": None,
        "node_count": len(rows),
        "source": source,
        # Over what is stored (signatures dropped): re-issued signatures are not a change.
        "content_hash": content_hash({"chat": entry, "conversation": answer}),
        "flattener_version": FLATTENER_VERSION,
        "raw_json": dumps(stored),
    }
    return FlatConversation(conversation, rows, [])


__all__ = [
    "BingFlattenError",
    "adaptive_card_text",
    "drop_signatures",
    "flatten_bing_conversation",
    "is_hidden_message",
]
