"""What the archive stored, read back for ``archiver reflatten``: a conversation's own raw JSON
and the raw JSON of its messages that upstream still had. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def stored_conversation(conversation: Mapping[str, Any]) -> dict[str, Any]:
    """The conversation row's raw JSON (upstream's object, its messages left out); empty when
    none was stored. Raises ValueError when it is not a JSON object."""
    raw = conversation.get("raw_json")
    stored = json.loads(raw) if raw else {}
    if not isinstance(stored, dict):
        raise ValueError("the stored conversation is not an object")
    return stored


def upstream_messages(messages: Iterable[Mapping[str, Any]]) -> list[Any]:
    """The raw JSON of each message row, in the rows' order: rows marked deleted upstream are
    left out (upstream no longer had them), and so are rows with no raw JSON. Raises
    ValueError for stored JSON that cannot be read."""
    return [
        json.loads(row["raw_json"])
        for row in messages
        if row.get("deleted_upstream_at") is None and row.get("raw_json") is not None
    ]


__all__ = ["stored_conversation", "upstream_messages"]
