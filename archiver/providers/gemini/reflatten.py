"""Gemini chats re-derived from the rows already archived (``archiver reflatten``). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.records import FlatConversation
from archiver.providers.gemini.flatten import chat_from_rows, flatten_chat


def rebuild(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    return flatten_chat(
        chat_from_rows(conversation, messages),
        account=str(conversation.get("account") or ""),
        list_update_time=conversation.get("list_update_time"),
    )
