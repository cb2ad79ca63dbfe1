"""An export's JSON files read entry by entry, for the formats that import through
``flat_import``: each entry of an array parsed in turn (the file is streamed, never held whole),
and a file that cannot be read further ends in one ``Problem`` naming it and where it stopped,
after every complete entry before that point (a truncated export still imports what it holds).

The array is the whole file (``[...]``) or one member of a top-level object
(``{"conversations": [...], ...}``); small files that are one JSON value are read whole.
``shaped_entries`` is the cheap first look a format's detection takes at the same files."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from zlib import error as ZlibError

from archiver.importer.files import FileEntry
from archiver.importer.flat_import import Problem
from archiver.importer.jsonarray import JSONArrayError, iter_raw_items, iter_raw_member_items
from archiver.importer.source import NOT_AN_ARRAY, UTF8_BOM, ExportFiles, first_array_item

_READ_ERRORS = (zipfile.BadZipFile, ZlibError, EOFError, OSError)


def short(exc: BaseException) -> str:
    """An exception as one short line, for a Problem's reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _without_bom(read: Callable[[int], bytes]) -> Callable[[int], bytes]:
    started = False

    def reader(size: int) -> bytes:
        nonlocal started
        data = read(size)
        if not started:
            started = True
            data = data.removeprefix(UTF8_BOM)
        return data

    return reader


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
            read = _without_bom(stream.read)
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


def shaped_entries(
    files: ExportFiles, opening: bytes, markers: tuple[bytes, ...], member: str | None = None
) -> Iterator[tuple[FileEntry, Any]]:
    """The JSON entries that start with ``opening`` (``[`` or ``{``) and hold every one of
    ``markers`` (key names, quoted) in their first 64 KiB, each with the first item of its
    array (``member``'s, when the array is a member of an object): None for an empty array,
    NOT_AN_ARRAY when it could not be read (a truncated file, or a first item over 10 MB),
    which the markers then vouch for. Cheap: whole files are never read here."""
    for entry in files.json_entries():
        head = files.head(entry).lstrip()
        if not head.startswith(opening) or not all(marker in head for marker in markers):
            continue
        yield entry, first_array_item(files, entry, member=member)


__all__ = ["NOT_AN_ARRAY", "array_items", "shaped_entries", "short", "whole_json"]
