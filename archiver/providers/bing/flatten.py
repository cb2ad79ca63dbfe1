"""A Bing chat (saved-list entry + GetConversation answer) → rows.

Bing history is a flat chronological list, not a tree: each message becomes one node whose
parent is the previous message, so the same tree queries work for both providers. Side messages
(search queries, loaders, suggestions, disengagement notes) are kept but marked hidden, so the
visible chat is ``WHERE is_hidden = 0``. Signatures are credentials: they are dropped from what
is stored."""

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
from archiver.providers.bing.options import PROVIDER
from archiver.timeutil import to_iso

_ROLES = {"user": "user", "bot": "assistant"}
# Container elements whose children hold more card elements.
_CARD_CHILD_KEYS = ("body", "items", "columns", "inlines", "actions", "card")
# What a message without a messageId is known by (its derived id is their hash).
_ID_BASIS = ("author", "createdAt", "timestamp", "requestId", "messageType", "text")


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


def _node_ids(messages: list[Any]) -> list[str]:
    """The messageId of each message; a missing one is derived, a repeated one suffixed."""
    bases = []
    for message in messages:
        msg = as_dict(message)
        basis = [msg.get(key) for key in _ID_BASIS]
        bases.append(as_str(msg.get("messageId")) or derived_id(message, basis))
    return unique_ids(bases)


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
    for index, message in enumerate(messages):
        msg = as_dict(message)
        author = as_str(msg.get("author"))
        kind = as_str(msg.get("messageType"))
        rows.append(
            {
                **chain_columns(conversation_id, ids, index),
                "message_id": as_str(msg.get("messageId")),
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


def read_bing_chat(chat: dict[str, Any], history: Any, requested_id: str | None) -> LinearChat:
    """One chat: ``chat`` is its saved-list entry (may be empty, e.g. for a retry of an
    earlier failure), ``history`` the GetConversation answer. Raises BingFlattenError only when
    the answer is not a conversation at all."""
    if not isinstance(history, dict):
        raise BingFlattenError(f"GetConversation answer is a {type(history).__name__}")
    entry = drop_signatures(chat)
    answer = drop_signatures(history)
    cid = (
        as_str(entry.get("conversationId")) or as_str(answer.get("conversationId")) or requested_id
    )
    if not cid:
        raise BingFlattenError("conversation has no conversationId")
    raw_messages = answer.get("messages")
    messages: list[Any] = raw_messages if isinstance(raw_messages, list) else []
    without_messages = {k: v for k, v in answer.items() if k != "messages"}
    if raw_messages is not None and not isinstance(raw_messages, list):
        without_messages["messages"] = raw_messages  # not a list: keep it rather than lose it
    return LinearChat(
        id=cid,
        provider=PROVIDER,
        rows=message_rows(cid, messages),
        title=as_str(entry.get("chatName")) or as_str(answer.get("defaultChatName")),
        create_time=to_iso(entry.get("createTimeUtc")),
        update_time=to_iso(entry.get("updateTimeUtc")),
        # Over what is stored (signatures dropped): re-issued signatures are not a change.
        hashed={"chat": entry, "conversation": answer},
        stored={"chat": entry, "conversation": without_messages},
    )


flatten_bing_conversation = LinearFlattener(read_bing_chat)


__all__ = [
    "BingFlattenError",
    "adaptive_card_text",
    "drop_signatures",
    "flatten_bing_conversation",
    "is_hidden_message",
]
