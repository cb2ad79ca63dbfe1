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
