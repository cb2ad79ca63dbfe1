"""Reading Le Chat's export values: sans-I/O, shared by the flattener and the renderer.

A chat file is a bare array of message records (``id``, ``chatId``, ``role``, ``createdAt``,
``content``, ``contentChunks``, ``files``, ...). An answer's ``contentChunks`` hold its steps:
text chunks (one whose ``_context.type`` is ``"reasoning"`` is the model's reasoning; the last
one is ``content``), ``tool_call``, ``reference``, ``custom_element`` and ``image_url``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_str
from archiver.providers.lechat.options import files_folder


def chunks(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = record.get("contentChunks")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def is_reasoning(chunk: Mapping[str, Any]) -> bool:
    return as_dict(chunk.get("_context")).get("type") == "reasoning"


def chat_id_of(records: Any) -> str | None:
    """The chat's id: the first ``chatId`` its records give."""
    if not isinstance(records, list):
        return None
    return next((i for r in records if (i := as_str(as_dict(r).get("chatId")))), None)


def files_of(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of each file the message names (``files``: ``{"type", "name"}``)."""
    listed = record.get("files")
    found = []
    for entry in listed if isinstance(listed, list) else []:
        name = as_str(as_dict(entry).get("name"))
        if name:
            found.append((as_str(as_dict(entry).get("type")) or "file", name))
    return found


def file_pointer(chat_id: str, name: str) -> str:
    """Where a chat's file sits in the export, which is also its attachment pointer."""
    return f"{files_folder(chat_id)}/{name}"


def image_url(chunk: Mapping[str, Any]) -> str:
    value = chunk.get("image_url")
    if isinstance(value, dict):
        value = value.get("url")
    return value if isinstance(value, str) else as_str(chunk.get("url")) or ""
