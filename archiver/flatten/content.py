"""Searchable text for every ChatGPT content type. Unknown types are best-effort, never an error:
the raw message is stored whole regardless, so nothing depends on this being complete."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from archiver.loosejson import as_dict, as_str


def _join(pieces: Iterable[str | None], sep: str = "\n") -> str | None:
    kept = [p for p in pieces if isinstance(p, str) and p != ""]
    return sep.join(kept) if kept else None


def asset_pointer_objects(part: Any) -> Iterator[dict[str, Any]]:
    """Every object holding an ``asset_pointer`` inside one content part, in document order,
    however deep: voice mode nests the user's audio (``audio_asset_pointer``), the camera's
    frames (``frames_asset_pointers``) and the video (``video_container_asset_pointer``) one
    level down in a ``real_time_user_audio_video_asset_pointer`` part. Iterative: a hostile
    part cannot exhaust the stack."""
    stack: list[Any] = [part]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if isinstance(value.get("asset_pointer"), str) and value["asset_pointer"]:
                yield value
            stack.extend(v for v in reversed(value.values()) if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend(v for v in reversed(value) if isinstance(v, dict | list))


def _part_text(part: Any) -> str | None:
    """A ``parts`` entry: a string, or an object inside multimodal_text."""
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return None if part is None else str(part)
    kind = part.get("content_type")
    if kind == "audio_transcription":
        return as_str(part.get("text"))
    if kind == "image_asset_pointer":
        return f"[image: {part.get('asset_pointer') or 'unknown'}]"
    if isinstance(kind, str) and kind.endswith("asset_pointer"):
        label = kind.removesuffix("_asset_pointer").replace("_", " ")
        pointers = [str(found["asset_pointer"]) for found in asset_pointer_objects(part)]
        return f"[{label}: {', '.join(pointers) or 'unknown'}]"
    return as_str(part.get("text")) or (f"[{kind}]" if isinstance(kind, str) else None)


def _parts(content: dict[str, Any]) -> str | None:
    parts = content.get("parts")
    if not isinstance(parts, list):
        return None
    return _join(_part_text(p) for p in parts)


def _thoughts(content: dict[str, Any]) -> str | None:
    thoughts = content.get("thoughts")
    pieces: list[str | None] = []
    if isinstance(thoughts, list):
        for thought in thoughts:
            t = as_dict(thought)
            pieces.extend([as_str(t.get("summary")), as_str(t.get("content"))])
    return _join(pieces)


def _fields(*names: str) -> Callable[[dict[str, Any]], str | None]:
    def extract(content: dict[str, Any]) -> str | None:
        return _join(as_str(content.get(name)) for name in names)

    return extract


_EXTRACTORS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "text": _parts,
    "multimodal_text": _parts,
    "code": _fields("text"),
    "execution_output": _fields("text"),
    "tether_quote": _fields("title", "text"),
    "tether_browsing_display": _fields("result", "summary"),
    "tether_browsing_code": _fields("code", "text"),
    "user_editable_context": _fields("user_profile", "user_instructions"),
    "model_editable_context": _fields("model_set_context", "text"),
    "thoughts": _thoughts,
    "reasoning_recap": _fields("content"),
    "system_error": _fields("name", "text"),
    "computer_output": _fields("text"),
    "citable_code_output": _fields("output_str", "text"),
    "sonic_webpage": _fields("title", "text", "snippet"),
}

# Keys worth reading from a content type nobody has told us about yet.
_FALLBACK_KEYS = ("text", "content", "result", "summary", "title", "output", "value")


def content_text(content: Any) -> str | None:
    """The text a person would search for in one message's ``content``."""
    if isinstance(content, str):
        return content or None
    if isinstance(content, list):  # not a known shape, but its strings are still worth finding
        return _join(_part_text(p) for p in content)
    content = as_dict(content)
    if not content:
        return None
    if content.get("content_type") == "text":
        parts = content.get("parts")
        if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
            kept = [p for p in parts if p]  # the common case, without _join's generators
            if kept:
                return "\n".join(kept)
    extractor = _EXTRACTORS.get(str(content.get("content_type")))
    if extractor is not None:
        text = extractor(content)
        if text is not None:
            return text
    return _parts(content) or _join(as_str(content.get(key)) for key in _FALLBACK_KEYS)
