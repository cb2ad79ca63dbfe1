"""The HTML form of a Takeout activity file (``MyActivity.html``), read into records (pure).

Each entry is an ``outer-cell`` div: a header cell (the product), a body cell ``<verb>
<prompt><br><time><br><answer HTML><br>``, a right-hand cell (previews of uploaded images), and
a caption cell (Products, and since 2026 a Details line linking the chat). Lines between the
prompt and the time, when there are any, are subtitles: "Attached N files." with a line per
file, or the Gem the chat used. The time is the line that holds a clock (``h:mm:ss``); the
answer is everything after it. Cells are cut by counting ``<div>`` nesting (the answer HTML
is Google's sanitised HTML, whose text escapes any ``<``)."""

from __future__ import annotations

import re
from typing import Any

from archiver.providers.gemini.htmltext import inline_text
from archiver.providers.gemini.takeout import (
    Attachment,
    Entry,
    EntryError,
    Record,
    chat_id_of,
    entry_of,
    record_from_json,
    subtitle_parts,
)

_OUTER = re.compile(r"<div\b[^>]*\bclass=\"[^\"]*\bouter-cell\b[^\"]*\"[^>]*>", re.IGNORECASE)
_CELL = re.compile(r"<div\b[^>]*\bclass=\"([^\"]*\bcontent-cell\b[^\"]*)\"[^>]*>", re.IGNORECASE)
_DIV = re.compile(r"<(/?)div\b[^>]*>", re.IGNORECASE)
_TITLE = re.compile(r"class=\"[^\"]*mdl-typography--title[^\"]*\"[^>]*>(.*?)</p>", re.S)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HREF = re.compile(r"href=\"([^\"]*)\"", re.IGNORECASE)
_IMG_SRC = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", re.IGNORECASE)
_CLOCK = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_LABELLED = re.compile(r"<b>([^<]*)</b>(.*?)(?=<b>|$)", re.S)


def _close(html: str, start: int) -> int:
    """The end of the div whose start tag ends at ``start`` (just after its closing tag)."""
    depth = 1
    for match in _DIV.finditer(html, start):
        depth += -1 if match[1] else 1
        if depth == 0:
            return match.end()
    return len(html)


def _divs(html: str, start_tag: re.Pattern[str]) -> list[tuple[re.Match[str], int]]:
    """Each div whose start tag ``start_tag`` matches, with where it ends; nested matches are
    inside the ones found, so they are skipped."""
    found: list[tuple[re.Match[str], int]] = []
    position = 0
    while (match := start_tag.search(html, position)) is not None:
        end = _close(html, match.end())
        found.append((match, end))
        position = end
    return found


def entry_cells(page: str) -> list[str]:
    """Every ``outer-cell`` div of the page, whole, in page order."""
    return [page[match.start() : end] for match, end in _divs(page, _OUTER)]


def _inner_cells(cell: str) -> list[tuple[str, str]]:
    """(class, inner HTML) of each content cell of an entry."""
    return [
        (match[1], re.sub(r"</div>\s*$", "", cell[match.end() : end], flags=re.IGNORECASE))
        for match, end in _divs(cell, _CELL)
    ]


def _line(html: str) -> tuple[str, str | None]:
    href = _HREF.search(html)
    return inline_text(html).strip(), (href[1] if href else None)


def record_from_cell(cell: str) -> Record:
    title_match = _TITLE.search(cell)
    header = inline_text(_BR.sub("", title_match[1])).strip() if title_match else ""
    body = right = caption = ""
    for classes, inner in _inner_cells(cell):
        if "text-right" in classes:
            right = inner
        elif "caption" in classes:
            caption = inner
        elif not body:
            body = inner
    pieces = _BR.split(body)
    # Where the time line is: the first line after the title that holds a clock.
    clock_at = next((i for i in range(1, len(pieces)) if _CLOCK.search(pieces[i])), None)
    head = pieces[0] if pieces else ""
    title, prompt_link = _line(head)
    subtitles = [_line(p) for p in pieces[1:clock_at]] if clock_at else []
    time_text = inline_text(pieces[clock_at]).strip() if clock_at else None
    answer = ""
    if clock_at is not None:
        answer = "<br>".join(pieces[clock_at + 1 :]).strip()
        while answer.lower().endswith("<br>"):
            answer = answer[:-4].rstrip()
    attachments, gem, chats = subtitle_parts(subtitles)
    # Uploaded images also show as previews in the right-hand cell.
    known = {a.file for a in attachments if a.file}
    for source in _IMG_SRC.findall(right):
        if (
            source
            and not source.startswith(("http://", "https://", "data:"))
            and source not in known
        ):
            known.add(source)
            attachments.append(Attachment(source, source))
    for link in [prompt_link, *_HREF.findall(caption)]:
        chat = chat_id_of(link) if link else None
        if chat and chat not in chats:
            chats.append(chat)
    products: list[str] = []
    labelled = _LABELLED.findall(caption)
    if labelled:  # the first labelled block lists the products (its label is localised)
        products = [t.strip() for t in inline_text(_BR.sub("\n", labelled[0][1])).split("\n")]
        products = [p for p in products if p]
    return Record(
        form="html",
        raw={"html": cell},
        header=header,
        title=title,
        time_text=time_text,
        drafts=[answer] if answer else [],
        chat_ids=chats,
        attachments=attachments,
        gem=gem,
        products=products,
    )


def entry_from_raw(raw: dict[str, Any]) -> Entry | None:
    """The entry a stored raw holds, either form (re-read when the archive rebuilds a chat)."""
    record = record_from_cell(raw["html"]) if "html" in raw else record_from_json(raw)
    try:
        return entry_of(record)
    except EntryError:
        return None


def looks_like_activity_page(head: str) -> bool:
    """Whether an HTML file's start is a My Activity page (Google's Material Design Lite
    cells), whatever its language."""
    return ("outer-cell" in head and "mdl-typography--title" in head) or (
        "material-design-lite" in head and "<title>" in head.lower()
    )


__all__ = ["entry_cells", "entry_from_raw", "looks_like_activity_page", "record_from_cell"]
