"""Canvas documents (``conversation/{id}/textdocs``), fetched only for conversations that have
canvas messages, every version kept with its raw JSON (the ``textdocs`` table).

``has_canvas`` and ``parse_textdocs`` are pure; ``store/textdocs.py:save_textdocs`` writes them
in one transaction. The import of an export writes the same table."""

from __future__ import annotations

import json
from typing import Any

from archiver.loosejson import as_dict, as_str

CANVAS_TOOL_PREFIX = "canmore."


def has_canvas(conversation: Any) -> bool:
    """True when a message talks to or comes from the canvas tool (``canmore.*``), or points at
    a canvas asset."""
    mapping = as_dict(conversation).get("mapping")
    for node in as_dict(mapping).values():
        message = as_dict(as_dict(node).get("message"))
        if not message:
            continue
        recipient = as_str(message.get("recipient")) or ""
        name = as_str(as_dict(message.get("author")).get("name")) or ""
        if recipient.startswith(CANVAS_TOOL_PREFIX) or name.startswith(CANVAS_TOOL_PREFIX):
            return True
        metadata = as_dict(message.get("metadata"))
        if metadata.get("canvas"):
            return True
        parts = as_dict(message.get("content")).get("parts")
        for part in parts if isinstance(parts, list) else []:
            if as_dict(part).get("content_type") == "canvas_asset_pointer":
                return True
    return False


def parse_textdocs(body: bytes) -> list[dict[str, Any]]:
    """A bare array of documents; an empty body (204) or anything not a list means none."""
    if not body.strip():
        return []
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        payload = payload["items"]  # tolerate a wrapped form
    if not isinstance(payload, list):
        return []
    return [doc for doc in payload if isinstance(doc, dict) and as_str(doc.get("id"))]
