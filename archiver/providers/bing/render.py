"""How a Bing chat message shows: its text, an image, and the sources it cites. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_list, as_text
from archiver.query.blocks import Block, Text, image, sources


def blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    blocks: list[Block] = []
    text = as_text(row.get("text")) or as_text(message.get("text"))
    if text:
        blocks.append(Text(text))
    picture = as_text(message.get("imageUrl"))
    if picture:
        blocks.append(image(picture, links))
    cited = [
        (as_text(a.get("providerDisplayName")), as_text(a.get("seeMoreUrl")))
        for a in map(as_dict, as_list(message.get("sourceAttributions")))
    ]
    return blocks + sources(cited)
