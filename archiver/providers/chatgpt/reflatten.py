"""ChatGPT conversations re-derived from the rows already archived (``archiver reflatten``).

The archive keeps each conversation's upstream object (minus its mapping) and each node's
message as received, plus each node's parent and children; together they rebuild the upstream
``mapping``, so the current flattener runs over the archive offline. Pure: rows in, rows out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.records import FlatConversation
from archiver.flatten.stored import stored_conversation
from archiver.flatten.tree import mapping_from_rows
from archiver.providers.chatgpt.flatten import flatten_conversation


def rebuild_conversation(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The conversation object as upstream sent it: raw fields plus a mapping rebuilt from the
    stored nodes (nodes marked deleted upstream are left out: upstream no longer had them).
    Raises ValueError for stored JSON that cannot be read."""
    conv = stored_conversation(conversation)
    conv["mapping"] = mapping_from_rows(messages)
    return conv


def reflatten_rows(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    return flatten_conversation(
        rebuild_conversation(conversation, messages),
        requested_id=str(conversation["id"]),
        source=conversation.get("source") or "api",
        account=conversation.get("account") or "",
        list_update_time=conversation.get("list_update_time"),
    )


rebuild = reflatten_rows  # the name the contract gives it (archiver/providers/modules.py)
