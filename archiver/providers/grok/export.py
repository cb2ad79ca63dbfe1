"""Import Grok's data export: the ``<uuid>.zip`` xAI mails, its unpacked folder, or
``prod-grok-backend.json`` alone.

Recognised by content: a JSON object whose ``conversations`` array holds items with a
``conversation`` object and ``responses`` (an empty export: ``conversations`` beside Grok's
``tasks`` or ``media_posts``). The file is streamed (a truncated one still imports the
conversations before the cut, and names where it stopped). Asset bytes are matched by id under
``prod-mc-asset-server/<id>/content`` and stored; the file's other members (``projects``,
``tasks``, ``media_posts``) and the export's other JSON files (account, billing) are kept whole
in ``export_files``."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from zlib import error as ZlibError

from archiver.flatten.records import FlatConversation
from archiver.importer.files import FileEntry, FileIndex
from archiver.importer.flat_import import Problem
from archiver.importer.jsonitems import Shape, flattened_items
from archiver.importer.shaped import Reading, ShapedExport, ShapedFiles
from archiver.providers.grok.flatten import GrokShapeError, flatten_item
from archiver.providers.grok.options import ASSET_FOLDER, CONVERSATIONS
from archiver.providers.grok.parse import sniff_type

if TYPE_CHECKING:
    from archiver.importer.source import ExportFiles, ImportOptions


def looks_like_item(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("conversation"), dict)
        and "id" in item["conversation"]
        and isinstance(item.get("responses"), list)
    )


SHAPE = Shape(
    opening=b"{",
    markers=(b'"conversations"',),
    looks_like=looks_like_item,
    # A first conversation that cannot be read in time: its keys vouch for it.
    fallback=(b'"conversation"', b'"responses"'),
    member=CONVERSATIONS,
    # An export with no conversations: the members only Grok's file has beside them.
    empty=(b'"media_posts"', b'"tasks"'),
)


def asset_index(files: ExportFiles) -> FileIndex:
    """Asset id → its ``prod-mc-asset-server/<id>/content`` member."""
    index = FileIndex([])
    for entry in files.entries:
        parts = PurePosixPath(entry.name).parts
        if len(parts) >= 3 and parts[-1] == "content" and parts[-3] == ASSET_FOLDER:
            index.add_alias(parts[-2], entry)
    return index


def _with_types(flat: FlatConversation, index: FileIndex) -> FlatConversation:
    """Give each attachment whose bytes are in the export the media type they announce (the
    viewer shows an image only when it knows it is one)."""
    for row in flat.attachments:
        entry = index.find(row["asset_pointer"])
        if entry is None:
            continue
        try:
            with entry.open() as stream:
                row["mime_type"] = sniff_type(stream.read(12))
        except (zipfile.BadZipFile, ZlibError, EOFError, OSError):
            continue  # storing it reports the problem
    return flat


def _others_entry(entry: FileEntry, others: dict[str, bytes]) -> FileEntry:
    """The conversations file's other members, as one JSON file to keep whole."""
    data = json.dumps(
        {name: json.loads(raw) for name, raw in others.items()}, ensure_ascii=False
    ).encode()
    return FileEntry(
        f"{entry.name} (without {CONVERSATIONS})", len(data), False, lambda: io.BytesIO(data)
    )


def read_conversations(
    entries: list[FileEntry], index: FileIndex, extras: list[FileEntry]
) -> Iterator[FlatConversation | Problem]:
    """Every conversation of every conversations file, in order. Once a file is read, its
    other members (each one read whole, even in a truncated file) join ``extras``."""
    for entry in entries:
        others: dict[str, bytes] = {}
        yield from flattened_items(
            entry,
            lambda item: _with_types(flatten_item(item), index),
            GrokShapeError,
            member=CONVERSATIONS,
            others=others,
        )
        if others:
            extras.append(_others_entry(entry, others))


def read_export(split: ShapedFiles, options: ImportOptions) -> Reading:
    index = asset_index(split.files)
    # ``split.others`` grows while the conversations are read; it is kept after them.
    return Reading(read_conversations(split.chosen, index, split.others), files=index)


EXPORT = ShapedExport(SHAPE, read_export)
detect = EXPORT.detect  # the contract's names (archiver/providers/modules.py)
run_import = EXPORT.run_import
