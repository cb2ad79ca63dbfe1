"""Bing chats re-derived from the rows already archived (``archiver reflatten``): the stored
list entry and GetConversation answer, and each message as received. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.records import FlatConversation
from archiver.providers.bing.flatten import flatten_bing_conversation


def _unpack(stored: dict[str, Any], raw: list[Any]) -> tuple[dict[str, Any], Any]:
    return stored.get("chat") or {}, {**(stored.get("conversation") or {}), "messages": raw}


def rebuild(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    return flatten_bing_conversation.reflatten(conversation, messages, _unpack)
