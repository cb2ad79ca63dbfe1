"""What a message shows, as format-neutral blocks: each provider's renderer
(``Provider.renderer``) reads its own raw JSON into these, and ``render`` lays them out as
Markdown, HTML or the viewer's page. Blocks hold archived text as it was: escaping and the
link allow-list happen where a format writes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archiver.loosejson import as_text


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Code:
    text: str
    language: str = ""


@dataclass(frozen=True)
class Output:
    text: str
    label: str = "Output"


@dataclass(frozen=True)
class Quote:
    text: str
    title: str = ""
    url: str = ""


@dataclass(frozen=True)
class Image:
    href: str
    label: str = "image"


@dataclass(frozen=True)
class Sources:
    items: tuple[tuple[str, str], ...]  # (title, url)


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Thinking:
    """Reasoning shown folded away (ChatGPT's thoughts, Claude's thinking blocks)."""

    text: str
    label: str = "Thinking"


Block = Text | Code | Output | Quote | Image | Sources | Note | Thinking


# --- shared by the renderers ------------------------------------------------------------------


def text_blocks(row: Mapping[str, Any]) -> list[Block]:
    """The message's searchable text, as it is (plain-text upstreams; the fallback)."""
    text = as_text(row.get("text"))
    return [Text(text)] if text else []


def attachment_links(attachments: list[dict[str, Any]]) -> dict[str, str]:
    """asset pointer (and its bare file id) → where to link: the extracted file when there is
    one, else the downloaded copy in the file store, else the pointer itself."""
    links: dict[str, str] = {}
    for row in attachments:
        pointer = as_text(row.get("asset_pointer"))
        target = as_text(row.get("extracted_path")) or as_text(row.get("stored_path"))
        if pointer and target:
            links[pointer] = target
            links[pointer.split("://", 1)[-1]] = target
    return links


def image(pointer: str, links: Mapping[str, str], label: str = "image") -> Image:
    """An image (or file) block for ``pointer``, linked to the stored copy when there is one."""
    href = links.get(pointer) or links.get(pointer.split("://", 1)[-1]) or pointer
    return Image(href, label)


def sources(pairs: list[tuple[str, str]]) -> list[Block]:
    """A Sources block of (title, url) pairs, duplicates dropped; none when there are none."""
    unique = tuple(dict.fromkeys((title or url, url) for title, url in pairs if url))
    return [Sources(unique)] if unique else []
