"""How a ChatGPT message shows: its raw message (``content.content_type`` and its parts,
``metadata`` citations) read into blocks (``archiver.query.blocks``). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_list, as_text
from archiver.query.blocks import Block, Code, Note, Output, Quote, Text, image, sources

_TOOL_OUTPUT_TYPES = ("tether_browsing_display", "computer_output", "citable_code_output")


def citations(message: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Citations (``metadata.citations``, ``content_references``) as (title, url) pairs."""
    metadata = as_dict(message.get("metadata"))
    found: list[tuple[str, str]] = []
    for citation in as_list(metadata.get("citations")):
        meta = as_dict(as_dict(citation).get("metadata"))
        url = as_text(meta.get("url"))
        if url:
            found.append((as_text(meta.get("title")) or url, url))
    for reference in as_list(metadata.get("content_references")):
        reference = as_dict(reference)
        for item in [
            reference,
            *as_list(reference.get("items")),
            *as_list(reference.get("sources")),
        ]:
            url = as_text(as_dict(item).get("url"))
            if url:
                found.append((as_text(as_dict(item).get("title")) or url, url))
    return found


def _multimodal(parts: list[Any], links: Mapping[str, str]) -> list[Block]:
    blocks: list[Block] = []
    for part in parts:
        if isinstance(part, str):
            if part:
                blocks.append(Text(part))
            continue
        part = as_dict(part)
        part_kind = as_text(part.get("content_type"))
        pointer = as_text(part.get("asset_pointer"))
        if part_kind == "audio_transcription":
            blocks.append(Text(as_text(part.get("text"))))
        elif pointer:
            label = part_kind.removesuffix("_asset_pointer").replace("_", " ") or "file"
            blocks.append(image(pointer, links, label))
        elif as_text(part.get("text")):
            blocks.append(Text(as_text(part.get("text"))))
    return blocks


def message_blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    content = as_dict(message.get("content"))
    kind = as_text(content.get("content_type"))
    text = as_text(row.get("text"))
    blocks: list[Block] = []
    if kind == "code":
        language = as_text(content.get("language"))
        blocks.append(Code(as_text(content.get("text")), "" if language == "unknown" else language))
    elif kind == "execution_output":
        blocks.append(Output(as_text(content.get("text"))))
        aggregate = as_dict(as_dict(message.get("metadata")).get("aggregate_result"))
        for item in as_list(aggregate.get("messages")):
            url = as_text(as_dict(item).get("image_url"))
            if url:
                blocks.append(image(url, links, "output image"))
    elif kind == "multimodal_text":
        blocks += _multimodal(as_list(content.get("parts")), links)
    elif kind == "tether_quote":
        blocks.append(
            Quote(
                as_text(content.get("text")),
                as_text(content.get("title")),
                as_text(content.get("url")),
            )
        )
    elif kind == "thoughts":
        blocks.append(Quote(text, "Thinking"))
    elif kind == "reasoning_recap":
        blocks.append(Note(as_text(content.get("content")) or text))
    elif kind == "system_error":
        blocks.append(Note(f"Error: {text}"))
    elif kind in _TOOL_OUTPUT_TYPES:
        blocks.append(Output(text, "Tool output"))
    elif text:
        blocks.append(Text(text))
    elif kind:
        blocks.append(Note(f"[{kind}]"))
    return blocks + sources(citations(message))


blocks = message_blocks  # the name the contract gives it (archiver/providers/modules.py)
