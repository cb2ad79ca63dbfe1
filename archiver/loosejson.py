"""Reading JSON whose shape nothing promises (upstream answers, exports, stored raw_json):
each helper gives the value when it has the expected type and an empty one otherwise, so
a parser walks a changed or broken document without raising."""

from __future__ import annotations

import json
from typing import Any

Json = dict[str, Any]  # a JSON object, as read or as about to be written


def load_json(raw: Any) -> Any:
    """A stored raw_json column as a value; None when it is missing or unreadable."""
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    """A string, or "" (for text laid out as it is)."""
    return value if isinstance(value, str) else ""


def as_str(value: Any) -> str | None:
    """A string, or None (for a column that stays NULL when upstream sent no string)."""
    return value if isinstance(value, str) else None
