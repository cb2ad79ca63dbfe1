"""What every upstream's conversation list yields: enough to decide whether to fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ListItem:
    id: str
    update_time: str | None  # ISO-8601 UTC, as the list shows it
    title: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def unreadable_entry(raw: Any) -> ListItem:
    """A list entry without a usable id. It stays in the page so that the engine counts it:
    a full walk that could not read every entry must not conclude the others are gone."""
    return ListItem(id="", update_time=None, raw=raw if isinstance(raw, dict) else {})
