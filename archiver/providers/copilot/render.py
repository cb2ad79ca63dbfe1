"""How a Copilot message shows: its text parts (the row's joined text), images, documents,
then citations. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_list, as_text
from archiver.query.blocks import Block, Note, Text, image, sources


def blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    blocks: list[Block] = []
    text = as_text(row.get("text"))
    if text:
        blocks.append(Text(text))
    cited: list[tuple[str, str]] = []
    for part in map(as_dict, as_list(message.get("content"))):
        kind = as_text(part.get("type"))
        url = as_text(part.get("url"))
        if kind == "image" and (url or as_text(part.get("thumbnailUrl"))):
            blocks.append(image(url or as_text(part.get("thumbnailUrl")), links))
        elif kind == "document":
            blocks.append(Note(f"[document: {as_text(part.get('fileName')) or 'attached'}]"))
        elif kind == "citation" and url:
            cited.append((as_text(part.get("title")), url))
    return blocks + sources(cited)
