"""How a DeepSeek message shows, fragment by fragment in upstream's order: reasoning folded
away (with how long it took), the prompt or answer as Markdown, tool steps and files as notes,
and the web results it searched as sources. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.loosejson import as_dict, as_list, as_text
from archiver.providers.deepseek.parse import files_of, fragments, kind_of
from archiver.query.blocks import Block, Note, Text, Thinking, sources


def _seconds(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f" ({value:g} s)"
    return ""


def _results(fragment: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (as_text(result.get("title")) or as_text(result.get("site_name")), url)
        for result in map(as_dict, as_list(fragment.get("results")))
        if (url := as_text(result.get("url")))
    ]


def blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    blocks: list[Block] = []
    searched: list[tuple[str, str]] = []
    for fragment in fragments(message):
        kind = kind_of(fragment)
        content = as_text(fragment.get("content"))
        if kind == "THINK":
            if content:
                label = "Thinking" + _seconds(fragment.get("elapsed_secs"))
                blocks.append(Thinking(content, label))
        elif kind in ("REQUEST", "RESPONSE"):
            if content:
                blocks.append(Text(content))
        elif kind == "SEARCH" or fragment.get("results"):
            searched += _results(fragment)
        elif kind != "FILE":
            blocks.append(Note(f"[{kind.lower() or 'fragment'}{': ' if content else ''}{content}]"))
    for _ident, name, _size in files_of(message):
        blocks.append(Note(f"[file: {name or _ident} (not in the export)]"))
    return blocks + sources(searched)
