"""How an API exchange shows (pure): the answer's text, a structured answer as JSON code, and
the reasoning some compatible servers return beside the answer, folded away."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_list, as_text
from archiver.query.blocks import Block, Code, Text, Thinking


def blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    blocks: list[Block] = []
    choices = as_list(as_dict(message.get("completion")).get("choices"))
    said = as_dict(as_dict(choices[0] if choices else {}).get("message"))
    reasoning = as_text(said.get("reasoning_content") or said.get("reasoning"))
    if reasoning:
        blocks.append(Thinking(reasoning))
    text = as_text(row.get("text"))
    if text:
        blocks.append(Code(text, "json") if message.get("json") else Text(text))
    return blocks
