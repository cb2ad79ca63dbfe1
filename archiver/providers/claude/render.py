"""How a Claude message shows: its content blocks in order (text, thinking folded away, tool
calls and their results, artifacts as code), then what was pasted and uploaded. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_list, as_text
from archiver.providers.claude.flatten import PASTED, file_entries
from archiver.query.blocks import Block, Code, Note, Output, Quote, Text, Thinking, image, sources


def _thinking(block: dict[str, Any]) -> Block:
    text = as_text(block.get("thinking"))
    if not text:  # hidden thinking: only its summaries are given
        summaries = [as_text(as_dict(s).get("summary")) for s in as_list(block.get("summaries"))]
        text = "\n".join(s for s in summaries if s)
    return Thinking(text or "(thinking not shown)")


def _tool_use(block: dict[str, Any]) -> list[Block]:
    name = as_text(block.get("name")) or "tool"
    data = as_dict(block.get("input"))
    if name == "artifacts" or name == "create_file":
        title = as_text(data.get("title")) or as_text(data.get("id")) or as_text(data.get("path"))
        command = as_text(data.get("command")) or name
        body = (
            as_text(data.get("content"))
            or as_text(data.get("file_text"))
            or as_text(data.get("new_str"))
        )
        return [Note(f"Artifact {title} ({command})"), Code(body, as_text(data.get("language")))]
    shown = json.dumps(data, ensure_ascii=False, indent=2) if data else ""
    return (
        [Note(f"Tool call: {name}"), Code(shown, "json")] if shown else [Note(f"Tool call: {name}")]
    )


def _tool_result(block: dict[str, Any]) -> Block:
    name = as_text(block.get("name")) or "tool"
    parts = [as_text(as_dict(item).get("text")) for item in as_list(block.get("content"))]
    if isinstance(block.get("content"), str):
        parts = [block["content"]]
    label = f"Tool error: {name}" if block.get("is_error") else f"Tool result: {name}"
    return Output("\n".join(p for p in parts if p), label)


def _citations(block: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for citation in map(as_dict, as_list(block.get("citations"))):
        url = as_text(citation.get("url")) or as_text(as_dict(citation.get("source")).get("url"))
        if url:
            found.append((as_text(citation.get("title")) or url, url))
    return found


def claude_blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    blocks: list[Block] = []
    cited: list[tuple[str, str]] = []
    content = message.get("content")
    if not isinstance(content, list):  # an older message: its flat text is all there is
        text = as_text(row.get("text"))
        blocks += [Text(text)] if text else []
    for block in map(as_dict, as_list(content)):
        kind = as_text(block.get("type"))
        if kind == "text":
            if as_text(block.get("text")):
                blocks.append(Text(as_text(block.get("text"))))
            cited += _citations(block)
        elif kind == "thinking":
            blocks.append(_thinking(block))
        elif kind == "tool_use":
            blocks += _tool_use(block)
        elif kind == "tool_result":
            blocks.append(_tool_result(block))
        elif kind:
            blocks.append(Note(f"[{kind}]"))
    for index, pasted in enumerate(map(as_dict, as_list(message.get("attachments")))):
        name = as_text(pasted.get("file_name")) or "pasted text"
        stored = links.get(f"{PASTED}{index}")
        text = as_text(pasted.get("extracted_content"))
        blocks.append(Quote(text, name, stored or ""))
    for entry in file_entries(dict(message)):
        pointer = as_text(entry.get("file_uuid")) or as_text(entry.get("uuid"))
        name = as_text(entry.get("file_name")) or as_text(entry.get("file_kind")) or "file"
        if pointer:
            blocks.append(
                image(pointer, links, name if entry.get("file_kind") != "image" else "image")
            )
        else:
            blocks.append(Note(f"[file: {name}]"))
    return blocks + sources(cited)


__all__ = ["claude_blocks"]


blocks = claude_blocks  # the name the contract gives it (archiver/providers/modules.py)
