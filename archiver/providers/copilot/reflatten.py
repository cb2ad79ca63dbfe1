"""Copilot conversations re-derived from the rows already archived (``archiver reflatten``):
the stored list entry and history extras, and each message as received. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.records import FlatConversation
from archiver.providers.copilot.flatten import flatten_copilot_conversation


def _unpack(stored: dict[str, Any], raw: list[Any]) -> tuple[dict[str, Any], Any]:
    return stored.get("conversation") or {}, {**(stored.get("history") or {}), "messages": raw}


def rebuild(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    return flatten_copilot_conversation.reflatten(conversation, messages, _unpack)
