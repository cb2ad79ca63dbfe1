"""How a Le Chat message shows: its chunks in order (reasoning folded away, text as Markdown,
tool calls as notes, images), or its ``content`` when it has no chunks; then its files, linked
to the stored copies. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_text
from archiver.providers.lechat.parse import (
    chat_id_of,
    chunks,
    file_pointer,
    files_of,
    image_url,
    is_reasoning,
)
from archiver.query.blocks import Block, Image, Note, Text, Thinking, image


def blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    blocks: list[Block] = []
    said = False
    for chunk in chunks(message):
        kind = as_text(chunk.get("type"))
        text = as_text(chunk.get("text"))
        if kind == "text" and text and is_reasoning(chunk):
            blocks.append(Thinking(text))
        elif kind == "text" and text:
            blocks.append(Text(text))
            said = True
        elif kind == "tool_call":
            blocks.append(Note(f"[tool call: {as_text(chunk.get('name')) or 'tool'}]"))
        elif kind == "image_url" and image_url(chunk):
            blocks.append(Image(image_url(chunk), "image"))
    content = as_text(message.get("content"))
    if not said and content:
        blocks.append(Text(content))
    chat_id = chat_id_of([message]) or str(row.get("conversation_id") or "")
    for kind, name in files_of(message):
        pointer = file_pointer(chat_id, name)
        if pointer in links:
            blocks.append(image(pointer, links, "image" if kind == "image" else "file"))
        else:
            blocks.append(Note(f"[{kind}: {name}]"))
    return blocks
