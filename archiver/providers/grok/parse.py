"""Reading Grok's export values: sans-I/O, shared by the flattener and the renderer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_str
from archiver.timeutil import to_epoch

RENDER_TAG = re.compile(r"<grok:render\b[^>]*>.*?</grok:render>", re.DOTALL)
ARTIFACT = re.compile(r"<xaiArtifact\b([^>]*)>(.*?)</xaiArtifact>", re.DOTALL)
ROLES = {"human": "user", "user": "user", "assistant": "assistant"}


def response_of(wrapper: Any) -> dict[str, Any]:
    """The response inside a wrapper (a bare response is accepted too)."""
    wrapper = as_dict(wrapper)
    inner = wrapper.get("response")
    return inner if isinstance(inner, dict) else wrapper


def epoch_of(value: Any) -> float | None:
    """A Grok time as epoch seconds: MongoDB's ``{"$date": {"$numberLong": "<ms>"}}``, the
    ``{"$date": "<ISO>"}`` form, or a bare ISO string or number."""
    if isinstance(value, dict):
        value = value.get("$date")
        if isinstance(value, dict):
            value = value.get("$numberLong")
    return to_epoch(value)


def search_text(message: str) -> str:
    """The message as people read it: citation tags dropped, artifacts' bodies kept."""
    text = RENDER_TAG.sub("", message)
    return ARTIFACT.sub(lambda m: m.group(2).strip("\n"), text)


def role_of(response: Mapping[str, Any]) -> str | None:
    sender = as_str(response.get("sender"))
    if not sender:
        return None
    return ROLES.get(sender.lower(), sender.lower())


# The types a file's first bytes give away (Grok's asset files have no name or extension).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def sniff_type(head: bytes) -> str | None:
    """The media type of a file from its first 12 bytes, for the few kinds that say it."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)
