"""One conversation as an Obsidian note: YAML front matter, then its messages. Pure: rows in,
text out (``vault`` decides file names, copies attachments and writes the notes).

- Each message is a heading with its role, its model and its local, readable time.
- Code stays fenced; citations become links; tool calls, tool output and reasoning are folded
  into collapsed callouts (``> [!example]-``), as the HTML export folds them.
- With every branch, each alternative that the current branch does not go through is a
  collapsed callout where it forks; the current branch reads straight through.
- Files: ``links`` maps a message's asset pointers to the vault's copy (relative paths);
  images are embedded, other files linked, and files the archive does not hold are named only.
- Every link target passes ``safe_href``; archived text is copied as it is (Markdown).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from archiver.query.blocks import Block, Image, Output
from archiver.query.render import (
    BlockReader,
    ConversationRows,
    _fence,
    _md_block,
    fold_label,
    message_blocks,
    safe_href,
    speaker,
)
from archiver.query.thread import AlternativeEnd, AlternativeStart, Branches, Turn, thread_events

HASH_KEY = "archiver_sha256"
_HASH_LINE = re.compile(rf"^{HASH_KEY}: .*\n", re.MULTILINE)
# YAML double-quoted scalars read JSON strings, except these line breaks of YAML 1.1 parsers.
_YAML_BREAKS = {"\u0085": "\\N", "\u2028": "\\L", "\u2029": "\\P"}


@dataclass(frozen=True)
class NoteFiles:
    """Where a note's files are: pointer (and bare file id) → relative path in the vault, and
    each message's attachment rows (to list the files no block showed)."""

    links: dict[str, str] = field(default_factory=dict)
    by_node: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


# --- front matter ------------------------------------------------------------------------------


def yaml_string(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in _YAML_BREAKS.items():
        text = text.replace(char, escape)
    return text


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "".join(f"\n  - {_yaml_value(item)}" for item in value) if value else "[]"
    return yaml_string(str(value))


def local_time(iso: Any, tz: tzinfo | None, *, readable: bool = False) -> str | None:
    """An archive time (ISO UTC) in the reader's zone: ``2024-05-17T11:30:05+02:00`` for the
    front matter, ``2024-05-17 11:30`` for a heading."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(tz)
    except (ValueError, OverflowError):
        return iso
    if readable:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.isoformat(timespec="seconds")


def front_matter(fields: dict[str, Any]) -> str:
    lines = ["---"]
    for key, value in fields.items():
        if value is None or value == []:
            continue
        text = _yaml_value(value)
        lines.append(f"{key}:{text}" if text.startswith("\n") else f"{key}: {text}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def with_hash(text: str) -> str:
    """The note with ``archiver_sha256`` (of the rest of the note) as its front matter's last
    line: a later export sees from it whether the user changed the note since."""
    head, _, body = text.partition("\n---\n")
    return f"{head}\n{HASH_KEY}: {note_hash(text)}\n---\n{body}"


def note_hash(text: str) -> str:
    return hashlib.sha256(_HASH_LINE.sub("", text, count=1).encode("utf-8")).hexdigest()


def written_unchanged(text: str) -> bool:
    """Whether a note is exactly as an export wrote it (its hash line matches the rest)."""
    match = _HASH_LINE.search(text)
    if match is None:
        return False
    return match.group(0).strip() == f"{HASH_KEY}: {note_hash(text)}"


# --- the body ----------------------------------------------------------------------------------


def _quoted(text: str, depth: int) -> str:
    if depth == 0:
        return text
    prefix = "> " * depth
    return "\n".join((prefix + line).rstrip() for line in text.split("\n"))


def _callout(kind: str, title: str, body: str) -> str:
    """A collapsed callout: folded until clicked."""
    title = " ".join(title.split())
    return f"> [!{kind}]- {title}\n" + _quoted(body, 1)


def _file_link(label: str, href: str, *, embed: bool) -> str:
    safe = safe_href(href)
    if safe is None:
        return f"{label} ({href})"
    label = re.sub(r"([\[\]\\])", r"\\\1", label)
    return f"{'!' if embed else ''}[{label}](<{safe.replace('>', '%3E').replace('<', '%3C')}>)"


def _bare(pointer: str) -> str:
    return pointer.split("://", 1)[-1]


class _MessageFiles:
    """One message's files while it is written: which were shown already, and their names."""

    def __init__(self, row: dict[str, Any], files: NoteFiles):
        self.links = files.links
        self.rows = files.by_node.get(str(row.get("id")), [])
        self.names = {
            _bare(str(a.get("asset_pointer") or "")): str(a.get("file_name")).rsplit("/", 1)[-1]
            for a in self.rows
            if a.get("file_name")
        }
        self.shown: set[str] = set()  # bare pointers

    def image(self, block: Image) -> str:
        """An Image block's href is the vault's copy when there is one, else the pointer."""
        local = block.href in self.links.values()
        pointer = next((p for p, h in self.links.items() if h == block.href), block.href)
        self.shown.add(_bare(pointer))
        if not local:
            name = self.names.get(_bare(block.href), block.href)
            return f"*{block.label}: {name} (not stored in the archive)*"
        return _file_link(block.label, block.href, embed="image" in block.label)

    def others(self) -> list[str]:
        """The files no block showed: linked when stored, named when not."""
        lines = []
        for attachment in self.rows:
            pointer = str(attachment.get("asset_pointer") or "")
            if _bare(pointer) in self.shown:
                continue
            self.shown.add(_bare(pointer))
            name = self.names.get(_bare(pointer), pointer)
            href = self.links.get(pointer)
            if href is None:
                lines.append(f"- {name} (not stored in the archive)")
            else:
                lines.append("- " + _file_link(name, href, embed=_is_image(attachment)))
        return ["Files:\n" + "\n".join(lines)] if lines else []


def _is_image(row: dict[str, Any]) -> bool:
    mime = str(row.get("mime_type") or "")
    name = str(row.get("file_name") or row.get("asset_pointer") or "").lower()
    return mime.startswith("image/") or name.endswith((".png", ".jpg", ".jpeg", ".gif", ".webp"))


def _block(block: Block, files: _MessageFiles, folded: bool) -> str:
    if isinstance(block, Image):
        return files.image(block)
    if isinstance(block, Output) and not folded:
        fence = _fence(block.text)
        return _callout("example", block.label, f"{fence}\n{block.text}\n{fence}")
    return _md_block(block)


def _heading(row: dict[str, Any], tz: tzinfo | None) -> str:
    bits = [speaker(row)]
    if row.get("model_slug"):
        bits.append(f"`{row['model_slug']}`")
    when = local_time(row.get("create_time"), tz, readable=True)
    if when:
        bits.append(when)
    if row.get("deleted_upstream_at"):
        bits.append("deleted upstream")
    return "## " + " · ".join(bits)


def message_markdown(
    row: dict[str, Any], files: NoteFiles, tz: tzinfo | None, read: BlockReader
) -> str:
    fold = fold_label(row)
    mine = _MessageFiles(row, files)
    blocks = message_blocks(row, files.links, read)
    parts = [_block(b, mine, fold is not None) for b in blocks]
    parts += mine.others()
    body = "\n\n".join(parts) if parts else "*(empty)*"
    if fold is not None:
        body = _callout("note" if fold == "Reasoning" else "example", fold, body)
    return f"{_heading(row, tz)}\n\n{body}"


def _alternative_title(start: AlternativeStart) -> str:
    return "Alternative " + " › ".join(f"{i} of {n}" for i, n in start.path)


def note_body(
    doc: ConversationRows, branches: Branches, files: NoteFiles, tz: tzinfo | None
) -> tuple[str, list[dict[str, Any]]]:
    """The messages, and the rows shown (in order). An alternative off the current branch is a
    collapsed callout; everything inside it is quoted once more per enclosing callout."""
    sections: list[tuple[int, int, str]] = []  # (depth of its first line, of its last, text)
    shown_rows: list[dict[str, Any]] = []
    folded: list[bool] = []  # per open alternative: whether it is a callout
    depth = 0
    pending: list[tuple[int, str]] = []  # callout headers waiting for their first message
    for event in thread_events(doc.messages, doc.conversation.get("current_node"), branches):
        if isinstance(event, AlternativeStart):
            folded.append(not event.current)
            if not event.current:
                header = f"[!quote]- {_alternative_title(event)}"
                pending.append((depth, _quoted(header, depth + 1)))
                depth += 1
        elif isinstance(event, AlternativeEnd):
            if folded and folded.pop():
                depth -= 1
                if pending and pending[-1][0] == depth:  # nothing visible in it: left out
                    pending.pop()
        elif isinstance(event, Turn):
            shown_rows.append(event.message)
            text = _quoted(message_markdown(event.message, files, tz, doc.read_blocks), depth)
            first = pending[0][0] if pending else depth
            # A callout's header and its first message are one block: no blank line between.
            sections.append((first, depth, "\n".join([*(h for _, h in pending), text])))
            pending.clear()
    out: list[str] = []
    for index, (first, _, text) in enumerate(sections):
        if index:
            # The blank line between two sections stays inside the callouts both are in.
            shared = min(sections[index - 1][1], first)
            out.append(_quoted("", shared) if shared else "")
        out.append(text)
    return "\n".join(out), shown_rows


def _first_model(rows: Iterable[dict[str, Any]]) -> str | None:
    for row in rows:
        if row.get("model_slug"):
            return str(row["model_slug"])
    return None


def render_note(
    doc: ConversationRows,
    branches: Branches,
    files: NoteFiles,
    *,
    url: str | None = None,
    tz: tzinfo | None = None,
) -> str:
    """The whole note, front matter first, its hash line last in it."""
    conv = doc.conversation
    body, rows = note_body(doc, branches, files, tz)
    title = str(conv.get("title") or "") or None
    provider = str(conv.get("provider") or "unknown")
    fields: dict[str, Any] = {
        "id": str(conv["id"]),
        "title": title or "Untitled conversation",
        "provider": provider,
        "created": local_time(conv.get("create_time"), tz),
        "updated": local_time(conv.get("update_time"), tz),
        "model": conv.get("default_model_slug") or _first_model(rows),
        "url": safe_href(url) if url else None,
        "tags": ["archiver", f"archiver/{re.sub(r'[^A-Za-z0-9_-]', '-', provider)}"],
        "aliases": [title] if title else [],
        "branches": branches,
        "messages": len(rows),
        "deleted_upstream": local_time(conv.get("deleted_upstream_at"), tz),
    }
    heading = f"# {title or 'Untitled conversation'}\n\n"
    return with_hash(front_matter(fields) + "\n" + heading + (body or "*(no messages)*") + "\n")
