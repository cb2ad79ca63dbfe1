"""An export's JSON files read entry by entry, for the formats that import through
``flat_import``: each entry of an array parsed in turn (the file is streamed, never held whole),
and a file that cannot be read further ends in one ``Problem`` naming it and where it stopped,
after every complete entry before that point (a truncated export still imports what it holds).

The array is the whole file (``[...]``) or one member of a top-level object
(``{"conversations": [...], ...}``); small files that are one JSON value are read whole.
``entries_of_shape`` is the cheap first look a format's detection takes at the same files."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zlib import error as ZlibError

from archiver.flatten.records import FlatConversation
from archiver.importer.files import FileEntry
from archiver.importer.flat_import import Problem
from archiver.importer.jsonarray import JSONArrayError, iter_raw_items, iter_raw_member_items
from archiver.importer.source import (
    NOT_AN_ARRAY,
    UTF8_BOM,
    ExportFiles,
    first_array_item,
    without_bom,
)

_READ_ERRORS = (zipfile.BadZipFile, ZlibError, EOFError, OSError)


def short(exc: BaseException) -> str:
    """An exception as one short line, for a Problem's reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def array_items(
    entry: FileEntry,
    *,
    member: str | None = None,
    what: str = "entry",
    others: dict[str, bytes] | None = None,
) -> Iterator[tuple[int, Any] | Problem]:
    """``(number, value)`` for each item of the entry's array (numbered from 1), then a
    Problem if the file stops being readable. ``member``: the array is that member of the
    top-level object; ``others`` then receives the object's other members as JSON text.
    ``what`` names one item in messages ("conversation")."""
    count = 0
    try:
        with entry.open() as stream:
            read = without_bom(stream.read)
            if member is None:
                items = iter_raw_items(read)
            else:
                items = iter_raw_member_items(read, member, others)
            for raw in items:
                count += 1
                try:
                    value = json.loads(raw)
                except (ValueError, RecursionError) as exc:  # bad UTF-8, nesting too deep
                    yield Problem(f"{entry.name} {what} #{count}", f"unreadable ({short(exc)})")
                    continue
                yield count, value
    except JSONArrayError as exc:
        yield Problem(
            entry.name,
            f"invalid or truncated JSON in {what} #{count + 1} ({short(exc)}); the {count} "
            f"{what}(s) before it are read, the rest of this file is not",
        )
    except _READ_ERRORS as exc:
        yield Problem(
            entry.name,
            f"cannot read further than {what} #{count} ({short(exc)}); the {count} {what}(s) "
            "before are read",
        )


def flattened_items(
    entry: FileEntry,
    flatten: Callable[[Any], FlatConversation],
    refused: type[Exception],
    *,
    member: str | None = None,
    others: dict[str, bytes] | None = None,
) -> Iterator[FlatConversation | Problem]:
    """Each conversation of the entry's array (``array_items``) through ``flatten``: a
    conversation it refuses (``refused``, the format's shape error) or one that cannot be read
    is a Problem naming the file and its number, and the rest goes on."""
    for item in array_items(entry, member=member, what="conversation", others=others):
        if isinstance(item, Problem):
            yield item
            continue
        number, value = item
        try:
            yield flatten(value)
        except refused as exc:
            yield Problem(f"{entry.name} conversation #{number}", str(exc))


def whole_json(entry: FileEntry, max_bytes: int) -> Any:
    """The entry parsed as one JSON value, or a Problem saying why it cannot be (too big to
    hold, unreadable, not valid or truncated JSON)."""
    if entry.size > max_bytes:
        return Problem(entry.name, f"{entry.size} bytes is over the limit of {max_bytes}")
    try:
        with entry.open() as stream:
            data = stream.read(max_bytes + 1).removeprefix(UTF8_BOM)
    except _READ_ERRORS as exc:
        return Problem(entry.name, f"cannot be read ({short(exc)})")
    if len(data) > max_bytes:
        return Problem(entry.name, f"more than {max_bytes} bytes: over the limit")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        return Problem(entry.name, f"invalid or truncated JSON ({short(exc)})")


@dataclass(frozen=True)
class Shape:
    """How a format's files look, for detection by content. A file is the format's when it
    starts with ``opening`` (``[`` or ``{``), holds every one of ``markers`` (quoted key names)
    in its first 64 KiB, and the first item of its array (``member``'s, when the array is a
    member of an object) ``looks_like`` one of the format's. When that item cannot be read in
    time (a truncated file, an item over 10 MB), ``fallback`` markers vouch for it instead; an
    empty array is the format's only when ``empty`` markers say so (an empty list is anyone's).
    """

    opening: bytes
    markers: tuple[bytes, ...]
    looks_like: Callable[[Any], bool]
    fallback: tuple[bytes, ...] = ()
    member: str | None = None
    empty: tuple[bytes, ...] = ()


def entries_of_shape(files: ExportFiles, shape: Shape) -> list[FileEntry]:
    """The JSON entries of ``files`` that are ``shape``'s. Cheap: a head and a first item each,
    whole files are never read here."""
    found = []
    for entry in files.json_entries():
        head = files.head(entry).lstrip()
        if not head.startswith(shape.opening) or not all(m in head for m in shape.markers):
            continue
        first = first_array_item(files, entry, member=shape.member)
        if first is NOT_AN_ARRAY:
            claimed = bool(shape.fallback) and all(m in head for m in shape.fallback)
        elif first is None:
            claimed = any(m in head for m in shape.empty)
        else:
            claimed = shape.looks_like(first)
        if claimed:
            found.append(entry)
    return found


def other_json(files: ExportFiles, chosen: list[FileEntry]) -> list[FileEntry]:
    """The export's JSON files that are not ``chosen``: kept whole by the import."""
    names = {entry.name for entry in chosen}
    return [entry for entry in files.json_entries() if entry.name not in names]


__all__ = [
    "Shape",
    "array_items",
    "entries_of_shape",
    "flattened_items",
    "other_json",
    "short",
    "whole_json",
]
