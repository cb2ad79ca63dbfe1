"""Import DeepSeek's data export: the zip "Export all history" gives, its unpacked folder, or
its ``conversations.json`` alone.

Recognised by content, never by name: the file shares ChatGPT's name, but its items carry
``inserted_at`` and a ``mapping`` whose messages hold ``fragments``. The file is streamed (a
truncated one still imports the conversations before the cut, and names where it stopped).
The export holds no file bytes: files are kept by name. Its other JSON files (the account's
``user.json``) are kept whole in ``export_files``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from archiver.flatten.records import FlatConversation
from archiver.importer.files import FileEntry
from archiver.importer.flat_import import Problem, import_flat
from archiver.importer.jsonitems import NOT_AN_ARRAY, array_items, shaped_entries
from archiver.providers.deepseek.flatten import DeepSeekShapeError, flatten_conversation

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.importer.run import ImportSummary
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress

_MARKERS = (b'"inserted_at"', b'"mapping"')
# What a head must also hold when the first conversation could not be read in time.
_FALLBACK_MARKERS = (b'"fragments"',)


def looks_like_conversation(item: Any) -> bool:
    return (
        isinstance(item, dict) and "inserted_at" in item and isinstance(item.get("mapping"), dict)
    )


def conversation_files(files: ExportFiles) -> list[FileEntry]:
    """The entries that are DeepSeek's conversations file (an empty one cannot be told from
    any other empty list, so it is not claimed)."""
    found = []
    for entry, first in shaped_entries(files, b"[", _MARKERS):
        if first is NOT_AN_ARRAY:
            claimed = all(marker in files.head(entry) for marker in _FALLBACK_MARKERS)
        else:
            claimed = looks_like_conversation(first)
        if claimed:
            found.append(entry)
    return found


def read_conversations(entries: list[FileEntry]) -> Iterator[FlatConversation | Problem]:
    for entry in entries:
        for item in array_items(entry, what="conversation"):
            if isinstance(item, Problem):
                yield item
                continue
            number, value = item
            try:
                yield flatten_conversation(value)
            except DeepSeekShapeError as exc:
                yield Problem(f"{entry.name} conversation #{number}", str(exc))


def import_deepseek(
    db: sqlite_utils.Database,
    files: ExportFiles,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportSummary:
    chosen = conversation_files(files)
    names = {entry.name for entry in chosen}
    extras = [entry for entry in files.json_entries() if entry.name not in names]
    return import_flat(db, read_conversations(chosen), options, extras=extras, progress=progress)
