"""How a Gemini message shows (pure): a live candidate's thoughts folded (``Thinking``) above
its answer, with the images it showed; a prompt with its uploads (linked to the stored file
when the Takeout brought it) and the Gem it used; a Takeout draft as its text (its HTML stays
in the raw JSON, never rendered as HTML: archived content is hostile)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_text
from archiver.providers.gemini import parse
from archiver.providers.gemini.options import TAKEOUT_POINTER
from archiver.providers.gemini.takeout_html import entry_from_raw
from archiver.query.blocks import Block, Note, Text, Thinking, image

# Placeholders the web app replaces with cards and media; they are not text to read.
_PLACEHOLDER = "http://googleusercontent.com/"


def _answer(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(_PLACEHOLDER))


def blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    blocks: list[Block] = []
    text = as_text(row.get("text"))
    if "candidate" in message:
        candidate = message.get("candidate")
        thoughts = parse.candidate_thoughts(candidate)
        if thoughts:
            blocks.append(Thinking(thoughts))
        answer = _answer(text)
        if answer:
            blocks.append(Text(answer))
        blocks += [image(url, links) for url in parse.candidate_images(candidate)]
        return blocks
    if isinstance(message.get("turn"), list):
        _, gem = parse.turn_gem(message["turn"])
        if gem:
            blocks.append(Note(f"Gem: {gem}"))
        return [*blocks, Text(text)] if text else blocks
    takeout = as_dict(message.get("takeout"))
    if takeout:
        entry = entry_from_raw(takeout)
        if entry is not None and entry.gem is not None:
            blocks.append(Note(f"Gem: {entry.gem.name}"))
        if text:
            blocks.append(Text(text))
        for upload in entry.attachments if entry is not None else ():
            pointer = TAKEOUT_POINTER + (upload.file or upload.name)
            if pointer in links:
                blocks.append(image(pointer, links, upload.name))
            else:
                blocks.append(Note(f"[uploaded: {upload.name}]"))
        return blocks
    return [Text(text)] if text else blocks
