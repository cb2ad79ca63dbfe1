"""Import DeepSeek's data export: the zip "Export all history" gives, its unpacked folder, or
its ``conversations.json`` alone.

Recognised by content, never by name: the file shares ChatGPT's name, but its items carry
``inserted_at`` and a ``mapping`` whose messages hold ``fragments``. The file is streamed (a
truncated one still imports the conversations before the cut, and names where it stopped).
The export holds no file bytes: files are kept by name. Its other JSON files (the account's
``user.json``) are kept whole in ``export_files``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.importer.jsonitems import Shape, flattened_items
from archiver.importer.shaped import Reading, ShapedExport, ShapedFiles
from archiver.providers.deepseek.flatten import DeepSeekShapeError, flatten_conversation

if TYPE_CHECKING:
    from archiver.importer.source import ImportOptions


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


def read_export(split: ShapedFiles, options: ImportOptions) -> Reading:
    return Reading(
        item
        for entry in split.chosen
        for item in flattened_items(entry, flatten_conversation, DeepSeekShapeError)
    )


EXPORT = ShapedExport(SHAPE, read_export)
detect = EXPORT.detect  # the contract's names (archiver/providers/modules.py)
run_import = EXPORT.run_import
