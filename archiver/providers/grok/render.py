"""How a Grok response shows: its thinking trace folded away, its Markdown (citation tags
dropped, each ``<xaiArtifact>`` as its own block), its files and generated images, an error,
then the web pages it cited or searched. Read from the response as archived. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_list, as_text
from archiver.providers.grok.parse import ARTIFACT, RENDER_TAG, response_of
from archiver.query.blocks import Block, Code, Image, Note, Text, Thinking, image, sources

_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_PROSE_TYPES = ("", "text/markdown", "text/plain")


def thinking_text(trace: Any) -> str:
    """A thinking trace as text: a string, or a list of strings or of steps with text."""
    if isinstance(trace, str):
        return trace.strip()
    parts = [
        item if isinstance(item, str) else as_text(as_dict(item).get("text"))
        for item in as_list(trace)
    ]
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _artifact(attributes: str, body: str) -> list[Block]:
    found = dict(_ATTRIBUTE.findall(attributes))
    title = found.get("title") or "artifact"
    kind = found.get("contentType", "").lower()
    body = body.strip("\n")
    if kind in _PROSE_TYPES:
        return [Note(f"Artifact: {title}"), Text(body)]
    language = title.rsplit(".", 1)[-1].lower() if "." in title else kind.rsplit("/", 1)[-1]
    return [Note(f"Artifact: {title}"), Code(body, language.removeprefix("x-"))]


def message_blocks(message: str) -> list[Block]:
    """The Markdown of a response, artifacts apart."""
    blocks: list[Block] = []
    text = RENDER_TAG.sub("", message)
    start = 0
    for match in ARTIFACT.finditer(text):
        before = text[start : match.start()].strip()
        if before:
            blocks.append(Text(before))
        blocks += _artifact(match.group(1), match.group(2))
        start = match.end()
    rest = text[start:].strip()
    if rest:
        blocks.append(Text(rest))
    return blocks


def cited(response: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(title, url) of the citation cards and the web search results."""
    pairs: list[tuple[str, str]] = []
    for raw in as_list(response.get("card_attachments_json")):
        try:
            card = as_dict(json.loads(raw)) if isinstance(raw, str) else as_dict(raw)
        except ValueError:
            continue
        url = as_text(card.get("url")) or as_text(as_dict(card.get("image")).get("link"))
        if url:
            title = as_text(card.get("title")) or as_text(as_dict(card.get("image")).get("title"))
            pairs.append((title, url))
    for result in map(as_dict, as_list(response.get("web_search_results"))):
        url = as_text(result.get("url"))
        if url:
            pairs.append((as_text(result.get("title")), url))
    return pairs


def blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    response = response_of(message)
    blocks: list[Block] = []
    thinking = thinking_text(response.get("thinking_trace"))
    if thinking:
        blocks.append(Thinking(thinking))
    for agent in map(as_dict, as_list(response.get("agent_thinking_traces"))):
        text = thinking_text(agent.get("thinking_trace"))
        if text:
            blocks.append(Thinking(text, "Thinking (agent)"))
    blocks += message_blocks(as_text(response.get("message")))
    for asset in as_list(response.get("file_attachments")):
        if isinstance(asset, str) and asset:
            blocks.append(image(asset, links, "file"))
    for url in as_list(response.get("generated_image_urls")):
        if isinstance(url, str) and url:
            blocks.append(Image(url, "generated image"))
    error = response.get("error")
    if isinstance(error, str) and error:
        blocks.append(Note(f"Error: {error}"))
    elif isinstance(error, dict) and error:
        blocks.append(Note(f"Error: {json.dumps(error, ensure_ascii=False)}"))
    return blocks + sources(cited(response))
