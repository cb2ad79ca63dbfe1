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
from archiver.importer.jsonitems import Shape, entries_of_shape, flattened_items, other_json
from archiver.providers.deepseek.flatten import DeepSeekShapeError, flatten_conversation

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.importer.summary import ImportSummary
    from archiver.progress import Progress


def looks_like_conversation(item: Any) -> bool:
    return (
        isinstance(item, dict) and "inserted_at" in item and isinstance(item.get("mapping"), dict)
    )


# An empty conversations.json cannot be told from any other empty list: it is not claimed.
SHAPE = Shape(
    opening=b"[",
    markers=(b'"inserted_at"', b'"mapping"'),
    looks_like=looks_like_conversation,
    fallback=(b'"fragments"',),  # a first conversation that cannot be read in time
)


def detect(files: ExportFiles) -> bool:
    return bool(entries_of_shape(files, SHAPE))


def read_conversations(entries: list[FileEntry]) -> Iterator[FlatConversation | Problem]:
    for entry in entries:
        yield from flattened_items(entry, flatten_conversation, DeepSeekShapeError)


def run_import(
    db: sqlite_utils.Database,
    files: ExportFiles,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportSummary:
    chosen = entries_of_shape(files, SHAPE)
    extras = other_json(files, chosen)
    return import_flat(db, read_conversations(chosen), options, extras=extras, progress=progress)
