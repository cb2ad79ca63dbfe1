"""Import Le Chat's export: the ``chat-export-<ms>.zip`` Mistral gives, its unpacked folder, or
one ``chat-<uuid>.json``.

Recognised by content: JSON arrays of message records (``chatId``, ``role``, ``createdAt``,
``contentChunks``); each such file is one chat, read whole (a truncated or unreadable one is
named, and the others import; so is a file named like a chat that holds something else). A chat's files (``chat-<uuid>-files/<name>``) are matched by
that path and stored. The export's other JSON files are kept whole in ``export_files``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from archiver.flatten.records import FlatConversation
from archiver.importer.files import FileEntry, FileIndex
from archiver.importer.flat_import import Problem
from archiver.importer.jsonitems import Shape, whole_json
from archiver.importer.shaped import Reading, ShapedExport, ShapedFiles
from archiver.importer.source import first_array_item
from archiver.providers.lechat.flatten import LeChatShapeError, flatten_chat
from archiver.providers.lechat.parse import chat_id_of

if TYPE_CHECKING:
    from archiver.importer.source import ExportFiles, ImportOptions

_FOLDER = re.compile(r"^chat-(.+)-files$")
_CHAT_FILE = re.compile(r"^chat-(.+)\.json$")


def looks_like_message(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("chatId"), str)
        and "role" in item
        and "createdAt" in item
        and "contentChunks" in item
    )


# An empty chat file cannot be told from any other empty list: it is not claimed (and kept).
SHAPE = Shape(
    opening=b"[",
    markers=(b'"chatId"',),
    looks_like=looks_like_message,
    fallback=(b'"createdAt"', b'"contentChunks"'),  # a first record that cannot be read
)


def chat_folders(files: ExportFiles) -> tuple[FileIndex, dict[str, list[str]]]:
    """The files under ``chat-<id>-files/`` folders: an index by their pointer
    (``chat-<id>-files/<name>``) and each chat's names."""
    index = FileIndex([])
    names: dict[str, list[str]] = {}
    for entry in files.entries:
        parts = PurePosixPath(entry.name).parts
        for depth, part in enumerate(parts[:-1]):
            folder = _FOLDER.match(part)
            if folder:
                name = "/".join(parts[depth + 1 :])
                index.add_alias(f"{part}/{name}", entry)
                names.setdefault(folder[1], []).append(name)
                break
    return index, names


def read_chats(
    entries: list[FileEntry], folders: dict[str, list[str]], max_bytes: int
) -> Iterator[FlatConversation | Problem]:
    for entry in entries:
        records = whole_json(entry, max_bytes)
        if isinstance(records, Problem):
            yield records
            continue
        named = _CHAT_FILE.match(PurePosixPath(entry.name).name)
        chat_id = chat_id_of(records) or (named[1] if named else None)
        try:
            yield flatten_chat(
                records,
                folder_files=folders.get(chat_id or "", ()),
                fallback_id=chat_id,
            )
        except LeChatShapeError as exc:
            yield Problem(entry.name, str(exc))


def strays(files: ExportFiles, others: list[FileEntry]) -> Iterator[Problem]:
    """Files named like a chat (``chat-<id>.json``) that hold something else: an export of
    another kind mixed in, or a damaged chat. Each is reported (they are kept whole, not
    imported); an empty one is an empty chat, not a problem."""
    for entry in others:
        if _CHAT_FILE.match(PurePosixPath(entry.name).name) is None:
            continue
        if first_array_item(files, entry) is not None:
            yield Problem(
                entry.name,
                "named like a Le Chat chat but does not hold one (kept whole, not imported)",
            )


def read_export(split: ShapedFiles, options: ImportOptions) -> Reading:
    index, folders = chat_folders(split.files)
    chats = read_chats(split.chosen, folders, options.limits.max_file_bytes)
    return Reading(
        chain(chats, strays(split.files, split.others)),
        files=index,
        total=len(split.chosen),  # one chat a file
    )


EXPORT = ShapedExport(SHAPE, read_export)
detect = EXPORT.detect  # the contract's names (archiver/providers/modules.py)
run_import = EXPORT.run_import
