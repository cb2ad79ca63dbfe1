"""Open a ChatGPT data export in any of its layouts and stream its conversations one by one.

Layouts (docs/protocol/chatgpt-export.md): the export zip, its unpacked folder, or a bare
``conversations.json``; conversations either in one ``conversations.json`` or split across ``conversations-000.json``,
``conversations-001.json``, ... (with ``export_manifest.json``). Nothing is extracted to disk: a zip
member is parsed straight from its decompressing stream, and only one conversation is held in
memory at a time (``jsonarray``: the array split into items, each parsed by json's C parser)."""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any
from zlib import error as ZlibError

from archiver.errors import InputError
from archiver.importer.files import (
    FileEntry,
    FileIndex,
    MiB,
    file_id_of_pointer,
    open_zip,
    unsafe_reason,
    walked_entries,
    zip_entries,
)
from archiver.importer.jsonarray import JSONArrayError, TooLarge, iter_capped_items
from archiver.importer.source import UTF8_BOM
from archiver.progress import NullProgress, Progress

log = logging.getLogger(__name__)

_CONVERSATION_FILE = re.compile(r"^conversations(?:-(\d+))?\.json$")
_MANIFEST = "export_manifest.json"
_ASSET_NAMES = "conversation_asset_file_names.json"
CHAT_HTML = "chat.html"
_READ_SIZE = 256 * 1024


@dataclass(frozen=True)
class ConversationFile:
    """One JSON array of conversations inside the export."""

    name: str  # how errors name it: the member / relative path
    size: int
    open: Callable[[], IO[bytes]]


@dataclass
class Export:
    """An opened export: where its conversations are and which other files it holds."""

    path: Path
    kind: str  # 'zip' | 'folder' | 'json'
    conversation_files: list[ConversationFile]
    files: FileIndex
    problems: list[str] = field(default_factory=list)  # e.g. files the manifest lists but lacks
    close: Callable[[], None] = lambda: None
    extras: list[FileEntry] = field(default_factory=list)  # other JSON files, chat.html
    max_entry_bytes: int | None = None  # a conversation's JSON text at most (None: any size)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.conversation_files)


@dataclass(frozen=True)
class ExportItem:
    """One array entry as its JSON text, or why the file could not be read further. ``number``
    counts the file's entries from 1, as every message names them."""

    source: str
    number: int
    data: bytes | None = None
    error: str | None = None
    failure: str | None = None  # this entry is refused (the file is read on)

    @property
    def conversation(self) -> Any:
        """The entry parsed (for callers that want the object, not the text)."""
        return None if self.data is None else json.loads(self.data)


class CountingReader:
    """A file wrapper that reports every byte read, so progress follows the parse."""

    def __init__(self, raw: IO[bytes], progress: Progress):
        self._raw = raw
        self._progress = progress
        self._pending = b""

    def prime(self) -> bytes:
        """Peek at the start of the stream (returned bytes are still read later)."""
        self._pending = self._raw.read(_READ_SIZE)
        if self._pending.startswith(UTF8_BOM):
            self._pending = self._pending[len(UTF8_BOM) :]
        return self._pending

    def read(self, size: int = -1) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            if size == 0:
                self._pending = data
                return b""
        else:
            data = self._raw.read(size)
        self._progress.advance(len(data))
        return data


# -- layouts ------------------------------------------------------------------------------------


def is_conversation_file(name: str) -> bool:
    return _CONVERSATION_FILE.match(PurePosixPath(name).name) is not None


def _sort_key(name: str) -> tuple[int, int, str]:
    match = _CONVERSATION_FILE.match(PurePosixPath(name).name)
    number = int(match[1]) if match and match[1] else -1
    return (name.count("/"), number, name)


def pick_conversation_files(names: list[str]) -> list[str]:
    """The conversation files of an export: the shallowest folder that has any (exports are
    sometimes re-zipped inside a top folder), ``conversations.json`` first, then by number.
    When both forms are there, both are read: a conversation found twice keeps its newest
    ``update_time``, and on a tie the copy read first (``conversations.json``) stays."""
    found = [n for n in names if is_conversation_file(n) and not n.startswith("__MACOSX/")]
    if not found:
        return []
    depth = min(n.count("/") for n in found)
    return sorted((n for n in found if n.count("/") == depth), key=_sort_key)


def manifest_names(manifest: Any) -> set[str]:
    """Conversation file names listed anywhere in export_manifest.json (its exact shape is not
    documented, so every string that looks like one counts)."""
    names: set[str] = set()
    stack = [manifest]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and is_conversation_file(value):
            names.add(PurePosixPath(value).name)
    return names


def _check_manifest(manifest_text: bytes | None, chosen: list[str], problems: list[str]) -> None:
    if manifest_text is None:
        return
    try:
        listed = manifest_names(json.loads(manifest_text))
    except ValueError as exc:
        log.warning("%s is not valid JSON (%s); importing the files present", _MANIFEST, exc)
        return
    present = {PurePosixPath(n).name for n in chosen}
    for missing in sorted(listed - present):
        log.info("%s lists %s, which the export does not have", _MANIFEST, missing)
        problems.append(f"{missing}: listed in {_MANIFEST} but not in the export")


def _classify(
    entries: list[FileEntry], problems: list[str]
) -> tuple[list[FileEntry], list[FileEntry], list[FileEntry]]:
    """Split the export's members into (conversation files, other files, extras), leaving out
    and reporting the ones that are never touched: names that climb out of the export or are
    absolute (a hostile or broken zip) and symbolic links. ``__MACOSX/`` resource forks are
    skipped silently. Extras are the JSON files that are not conversation files, every file
    under ``textdocs/``, and chat.html."""
    usable: list[FileEntry] = []
    for entry in entries:
        if entry.name.startswith("__MACOSX/") or "/__MACOSX/" in entry.name:
            continue
        reason = unsafe_reason(entry.name)
        if reason is not None:
            problems.append(f"skipped member {entry.name!r}: its name {reason}")
        elif entry.is_symlink:
            problems.append(f"skipped member {entry.name!r}: it is a symbolic link")
        else:
            usable.append(entry)
    by_name = {e.name: e for e in usable}
    chosen = [by_name[n] for n in pick_conversation_files(list(by_name))]
    chosen_names = {e.name for e in chosen}
    extras = [
        e
        for e in usable
        if e.name not in chosen_names
        and not is_conversation_file(e.name)
        and (e.name.lower().endswith(".json") or PurePosixPath(e.name).name.lower() == CHAT_HTML)
    ]
    return chosen, usable, extras


def _build(
    path: Path,
    kind: str,
    entries: list[FileEntry],
    close: Callable[[], None] = lambda: None,
) -> Export:
    problems: list[str] = []
    chosen, usable, extras = _classify(entries, problems)
    if not chosen:
        close()
        where = "zip" if kind == "zip" else "folder"
        raise InputError(f"{path}: no conversations.json or conversations-NNN.json in this {where}")
    depth = chosen[0].name.count("/")
    manifest = next(
        (e for e in usable if PurePosixPath(e.name).name == _MANIFEST and e.depth == depth), None
    )
    _check_manifest(_read_small(manifest), [e.name for e in chosen], problems)
    files = FileIndex(usable)
    _add_asset_aliases(files, usable)
    conversation_files = [ConversationFile(e.name, e.size, e.open) for e in chosen]
    return Export(path, kind, conversation_files, files, problems, close, extras)


def _read_small(entry: FileEntry | None, limit: int = 10 * 1024 * 1024) -> bytes | None:
    if entry is None:
        return None
    try:
        with entry.open() as member:
            return member.read(limit)
    except (zipfile.BadZipFile, OSError, ZlibError, EOFError):
        return None


def _add_asset_aliases(files: FileIndex, usable: list[FileEntry]) -> None:
    """``conversation_asset_file_names.json`` (2025+) names the member of an asset whose file
    name does not start with its id; its shape is not documented, so every object entry that
    pairs a file id with the name of a member counts (``{"file-X": "name"}`` or
    ``{"asset_pointer": "...file-X", "file_name": "name"}``)."""
    entry = next((e for e in usable if PurePosixPath(e.name).name == _ASSET_NAMES), None)
    text = _read_small(entry)
    if text is None:
        return
    try:
        data = json.loads(text)
    except ValueError:
        return
    by_name: dict[str, FileEntry] = {}
    for e in usable:
        by_name.setdefault(e.name, e)
        by_name.setdefault(PurePosixPath(e.name).name, e)
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        strings = [v for v in value.values() if isinstance(v, str)]
        for key, item in value.items():
            if isinstance(item, dict | list):
                stack.append(item)
            elif isinstance(item, str) and item in by_name:
                ident = file_id_of_pointer(key)
                if ident is not None:
                    files.add_alias(ident, by_name[item])
        for string in strings:
            if string in by_name:
                for other in strings:
                    ident = file_id_of_pointer(other) if other != string else None
                    if ident is not None:
                        files.add_alias(ident, by_name[string])


def _open_zip(path: Path) -> Export:
    archive = open_zip(path)
    return _build(path, "zip", zip_entries(archive), archive.close)


def _open_folder(path: Path) -> Export:
    return _build(path, "folder", walked_entries(path))


def _looks_like_json_array(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096).removeprefix(UTF8_BOM).lstrip()
    return head.startswith(b"[")


@contextmanager
def open_export(
    path: str | os.PathLike[str], *, max_entry_bytes: int | None = None
) -> Iterator[Export]:
    """Recognise the layout at ``path``; raise InputError (exit 2) when it is none of them.
    ``max_entry_bytes``: a larger conversation is refused by name (``iter_conversations``)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        export = _open_folder(path)
    elif zipfile.is_zipfile(path):
        export = _open_zip(path)
    elif _looks_like_json_array(path):
        name = path.name
        export = Export(
            path,
            "json",
            [ConversationFile(name, path.stat().st_size, lambda: path.open("rb"))],
            FileIndex([]),
        )
    else:
        with open(path, "rb") as f:
            damaged_zip = f.read(2) == b"PK"
        hint = " (it starts like a zip but is damaged or truncated)" if damaged_zip else ""
        raise InputError(
            f"{path}: not a ChatGPT export: expected the export zip, its folder or a "
            f"conversations.json holding a JSON array{hint}"
        )
    export.max_entry_bytes = max_entry_bytes
    try:
        yield export
    finally:
        export.close()


# -- streaming ----------------------------------------------------------------------------------


def iter_conversations(export: Export, progress: Progress | None = None) -> Iterator[ExportItem]:
    """Every conversation of every conversation file, in order, one at a time. A file that
    cannot be read further yields one error item naming it and where it stopped; the next file
    is still read. An entry over the export's ``max_entry_bytes`` is refused (a failure item)
    without being held."""
    progress = progress or NullProgress()
    for file in export.conversation_files:
        yield from _iter_file(file, progress, export.max_entry_bytes)


def _iter_file(
    file: ConversationFile, progress: Progress, max_entry: int | None
) -> Iterator[ExportItem]:
    read = 0
    try:
        with file.open() as raw:
            reader = CountingReader(raw, progress)
            head = reader.prime().lstrip()
            if not head.startswith(b"["):
                what = "empty" if not head else "not a JSON array of conversations"
                yield ExportItem(file.name, 0, error=f"{file.name}: {what}")
                return
            for data in iter_capped_items(reader.read, max_entry):
                read += 1
                if isinstance(data, TooLarge):
                    yield ExportItem(file.name, read, failure=too_large(data.size, max_entry))
                    continue
                yield ExportItem(file.name, read, data)
    except JSONArrayError as exc:
        yield ExportItem(
            file.name,
            read + 1,
            error=f"{file.name}: invalid or truncated JSON in conversation #{read + 1} "
            f"({_short(exc)}); the {read} conversation(s) before it are read, the rest of "
            "this file is not",
        )
    except (zipfile.BadZipFile, ZlibError, EOFError, OSError) as exc:
        yield ExportItem(
            file.name,
            read + 1,
            error=f"{file.name}: cannot read further than conversation #{read} "
            f"({_short(exc)}); the {read} conversation(s) before are read",
        )


def too_large(size: int, limit: int | None) -> str:
    return (
        f"refused: {size / MiB:.0f} MB of JSON, more than --max-entry-mb "
        f"{(limit or 0) // MiB} (raise it to import this conversation)"
    )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
