"""Reading DeepSeek's export values: sans-I/O, shared by the flattener and the renderer.

A message is a list of typed fragments: ``REQUEST`` (the prompt), ``RESPONSE`` (the answer),
``THINK`` (reasoning), ``SEARCH`` (web results), ``TOOL_SEARCH``/``TOOL_OPEN`` (tool steps) and
``FILE`` (uploaded files). The export names no author: a message holding a prompt is the
user's, one holding an answer, reasoning, search or tool step is the assistant's, and one
holding only files is the user's (an upload)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_str

ASSISTANT_KINDS = ("RESPONSE", "THINK", "SEARCH", "TOOL_SEARCH", "TOOL_OPEN")


def fragments(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = message.get("fragments")
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def kind_of(fragment: Mapping[str, Any]) -> str:
    return (as_str(fragment.get("type")) or "").upper()


def role_of(message: Mapping[str, Any]) -> str | None:
    kinds = {kind_of(f) for f in fragments(message)}
    if "REQUEST" in kinds:
        return "user"
    if kinds.intersection(ASSISTANT_KINDS):
        return "assistant"
    if "FILE" in kinds or message.get("files"):
        return "user"
    return None


def searchable_text(message: Mapping[str, Any]) -> str | None:
    """The prompt and answer texts (reasoning and tool steps are rendered, not searched)."""
    texts = [
        as_str(f.get("content")) or ""
        for f in fragments(message)
        if kind_of(f) in ("REQUEST", "RESPONSE")
    ]
    texts = [t for t in texts if t]
    return "\n\n".join(texts) if texts else None


def files_of(message: Mapping[str, Any]) -> list[tuple[str, str | None, int | None]]:
    """(id, name, size) of every file a message names, once each: its own ``files``
    (``{id, file_name}``) and its ``FILE`` fragments' (``{file_id, file_name, file_size}``)
    name the same uploads; a file without an id is named by its name."""
    listed = message.get("files")
    entries = [as_dict(f) for f in listed] if isinstance(listed, list) else []
    for fragment in fragments(message):
        if kind_of(fragment) == "FILE" and isinstance(fragment.get("files"), list):
            entries += [as_dict(f) for f in fragment["files"]]
    found: dict[str, tuple[str | None, int | None]] = {}
    for entry in entries:
        name = as_str(entry.get("file_name"))
        ident = as_str(entry.get("id")) or as_str(entry.get("file_id")) or name
        size = entry.get("file_size")
        size = size if isinstance(size, int) and not isinstance(size, bool) else None
        if ident:
            known_name, known_size = found.get(ident, (None, None))
            found[ident] = (known_name or name, known_size or size)
    return [(ident, name, size) for ident, (name, size) in found.items()]
