"""An export's other files, kept whole after its conversations: every file that is not a
conversations file goes into ``export_files`` (name, sha256, content when it is text), for every
export format. A format whose side files mean something (ChatGPT's shared links, feedback,
canvas documents) passes ``land``, called with each decoded file.

A file over the size limit, or one that cannot be read or decoded, is recorded with why, and
reported (the import exits 3). Unknown shapes are still archived whole."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zlib import error as ZlibError

import sqlite_utils

from archiver.importer.files import FileEntry
from archiver.store.extras import ExportFile, save_export_file

_BOM = b"\xef\xbb\xbf"
NOT_JSON: Any = object()  # a file kept as text (``text_ok``), not JSON

# (db, entry name, parsed value or NOT_JSON, its text) -> None: what a format does with a file.
Land = Callable[[sqlite_utils.Database, str, Any, str | None], None]


@dataclass
class KeptFiles:
    files: int = 0  # export files archived (new name or content)
    errors: list[str] = field(default_factory=list)


def keep_files(
    db: sqlite_utils.Database,
    entries: Iterable[FileEntry],
    *,
    max_bytes: int,
    land: Land | None = None,
    text_ok: Callable[[str], bool] = lambda _name: False,
    name_only: Callable[[str], str | None] = lambda _name: None,
) -> KeptFiles:
    """Archive each entry whole. ``text_ok(name)``: a file that may be plain text rather than
    JSON; ``name_only(name)``: a kind ("html") for files recorded by name and size only (a
    rendering of the same data, often huge)."""
    kept = KeptFiles()
    for entry in entries:
        only = name_only(entry.name)
        if only is not None:
            kept.files += save_export_file(db, ExportFile(entry.name, "", entry.size, only, None))
            continue
        data, problem = read_limited(entry, max_bytes)
        if data is None:
            kind = "too_large" if problem and "limit" in problem else "invalid"
            kept.errors.append(f"{entry.name}: {problem}")
            kept.files += save_export_file(
                db, ExportFile(entry.name, "", entry.size, kind, None, problem)
            )
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        text, value, problem = _decode(data, text_ok=text_ok(entry.name))
        if problem is not None:
            kept.errors.append(f"{entry.name}: {problem}")
            kept.files += save_export_file(
                db, ExportFile(entry.name, sha256, len(data), "invalid", None, problem)
            )
            continue
        kind = "json" if value is not NOT_JSON else "text"
        kept.files += save_export_file(db, ExportFile(entry.name, sha256, len(data), kind, text))
        if land is not None:
            land(db, entry.name, value, text)
    return kept


def read_limited(entry: FileEntry, max_bytes: int) -> tuple[bytes | None, str | None]:
    """The member's bytes, or why not. Sizes a zip declares are not trusted: at most one byte
    past the limit is ever read."""
    if entry.size > max_bytes:
        return (
            None,
            f"{entry.size} bytes, over the per-file limit of {max_bytes} (--max-file-mb): not archived",
        )
    try:
        with entry.open() as source:
            data = source.read(max_bytes + 1)
    except (zipfile.BadZipFile, ZlibError, EOFError, OSError) as exc:
        return None, f"cannot be read ({exc})"
    if len(data) > max_bytes:
        return (
            None,
            f"larger than the per-file limit of {max_bytes} bytes (--max-file-mb): not archived",
        )
    return data, None


def _decode(data: bytes, *, text_ok: bool) -> tuple[str | None, Any, str | None]:
    """(text, parsed value, problem)."""
    try:
        text = data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, None, f"not JSON: invalid UTF-8 at byte {exc.start}"
    try:
        return text, json.loads(text), None
    except json.JSONDecodeError as exc:
        if text_ok:
            return text, NOT_JSON, None
        return None, None, f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
