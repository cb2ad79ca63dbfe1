"""An export as files, whatever the provider: a zip, an unpacked folder, or one file. The import
engine opens PATH here, asks every registered export format (``Provider.export``) whether the
files are its own, and hands them to the one that says yes.

Detection is by content, never by a file name alone (DeepSeek's ``conversations.json`` shares
ChatGPT's name); an export no format claims is refused with a message naming what was found."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, TypeVar

from archiver.errors import InputError
from archiver.importer.files import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_TOTAL_BYTES,
    ExtractLimits,
    FileEntry,
    folder_entries,
    open_zip,
    walked_entries,
    zip_entries,
)

SMALL_FILE = 10 * 1024 * 1024  # what detection may read whole
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ImportOptions:
    """What every export import takes (``archiver import``'s options)."""

    extract_dir: Path | None = None  # also copy the export's files here
    limits: ExtractLimits = field(
        default_factory=lambda: ExtractLimits(DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_TOTAL_BYTES)
    )
    jobs: int | None = None  # ChatGPT's big exports: parse in a second process
    store_files: bool = True  # put the export's files into the file store beside the DB


@dataclass
class ExportFiles:
    """The files of an opened export. ``kind`` is "zip", "folder" or "file" (PATH itself is
    the one entry, named by its file name)."""

    path: Path
    kind: str
    entries: list[FileEntry]
    close: Callable[[], None] = lambda: None
    _by_name: dict[str, FileEntry] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {entry.name: entry for entry in self.entries}

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def entry(self, name: str) -> FileEntry | None:
        return self._by_name.get(name)

    def named(self, base_name: str) -> list[FileEntry]:
        """Entries whose last path part is ``base_name``, shallowest first."""
        found = [e for e in self.entries if PurePosixPath(e.name).name == base_name]
        return sorted(found, key=lambda e: (e.depth, e.name))

    def head(self, entry: FileEntry, size: int = 64 * 1024) -> bytes:
        """The first ``size`` bytes of an entry (a byte-order mark dropped); b"" when it cannot
        be read."""
        try:
            with entry.open() as stream:
                return stream.read(size).removeprefix(UTF8_BOM)
        except (OSError, zipfile.BadZipFile, ValueError, EOFError):
            return b""

    def read_small(self, entry: FileEntry, limit: int = SMALL_FILE) -> bytes | None:
        """A whole entry, when it is at most ``limit`` bytes and readable; else None."""
        if entry.size > limit or entry.is_symlink:
            return None
        data = self.head(entry, limit + 1)
        return data if len(data) <= limit else None

    def json_entries(self) -> list[FileEntry]:
        """The entries a format looks into for JSON content: PATH itself when it is one file
        (whatever its name), else every ``.json`` file, shallowest first. What each holds is
        for the format to read."""
        if self.kind == "file":
            return list(self.entries)
        found = [e for e in self.entries if e.name.lower().endswith(".json") and not e.is_symlink]
        return sorted(found, key=lambda e: (e.depth, e.name))

    def describe(self) -> str:
        """What was found, for a refusal: the kind and a few names."""
        names = sorted(self.names(), key=lambda n: (n.count("/"), n))
        shown = ", ".join(names[:6]) + (f", ... ({len(names)} files)" if len(names) > 6 else "")
        what = {"zip": "a zip holding", "folder": "a folder holding", "file": "a file"}[self.kind]
        return f"{what} {shown or 'nothing'}"


def without_bom(read: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """``read`` with a byte-order mark at the very start of the stream dropped (an export saved
    by a Windows tool may begin with one, which json refuses)."""
    started = False

    def reader(size: int) -> bytes:
        nonlocal started
        data = read(size)
        if not started:
            started = True
            data = data.removeprefix(UTF8_BOM)
        return data

    return reader


NOT_AN_ARRAY: Any = object()  # first_array_item: not a JSON array, or not read in time


def first_array_item(
    files: ExportFiles, entry: FileEntry, max_bytes: int = SMALL_FILE, member: str | None = None
) -> Any:
    """The first item of the JSON array in ``entry``, parsed: ``None`` for an empty array,
    ``NOT_AN_ARRAY`` when the entry is not a JSON array, or its first item does not end
    within ``max_bytes`` (then look at ``files.head(entry)`` instead). Reads only as far as
    the first item. ``member``: the array is that member of a top-level JSON object
    (``{"conversations": [...]}``) instead of the whole entry."""
    from archiver.importer.jsonarray import (
        JSONArrayError,
        iter_raw_items,
        iter_raw_member_items,
    )

    remaining = max_bytes
    try:
        with entry.open() as stream:

            def capped(size: int) -> bytes:
                nonlocal remaining
                if remaining <= 0:
                    return b""
                data = stream.read(min(size, remaining))
                remaining -= len(data)
                return data

            read = without_bom(capped)
            items = iter_raw_items(read) if member is None else iter_raw_member_items(read, member)
            for raw in items:
                return json.loads(raw)
            return None
    except (JSONArrayError, ValueError, OSError, zipfile.BadZipFile, EOFError, RecursionError):
        return NOT_AN_ARRAY


@contextmanager
def open_files(path: str | os.PathLike[str]) -> Iterator[ExportFiles]:
    """The files at ``path``: InputError (exit 2) when it is missing or a damaged zip."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        files = ExportFiles(path, "folder", walked_entries(path))
    elif zipfile.is_zipfile(path):
        archive = open_zip(path)
        members = [e for e in zip_entries(archive) if not e.name.startswith("__MACOSX/")]
        files = ExportFiles(path, "zip", members, archive.close)
    else:
        files = ExportFiles(path, "file", folder_entries(path.parent, [path.name]))
    try:
        yield files
    finally:
        files.close()


class ExportClaim(Protocol):
    """What choosing a format asks of a provider's export format (``Provider.export``): its
    name and whether the files are its own. The caller gets its own format type back
    (``choose_format``, ``claimed_export``) and runs the import through it."""

    @property
    def label(self) -> str: ...

    def detect(self, files: ExportFiles) -> bool: ...


Format = TypeVar("Format", bound=ExportClaim)


def choose_format(files: ExportFiles, formats: Sequence[Format]) -> Format:
    """The one format that claims ``files``; InputError naming what was found otherwise."""
    claiming = [f for f in formats if f.detect(files)]
    if len(claiming) == 1:
        return claiming[0]
    known = "; ".join(f.label for f in formats)
    if not claiming:
        damaged = ""
        if files.kind == "file" and files.entries and files.head(files.entries[0], 2) == b"PK":
            damaged = " (it starts like a zip but is damaged or truncated)"
        raise InputError(
            f"{files.path}: not an export archiver knows{damaged}: found {files.describe()}. "
            f"Known: {known}."
        )
    raise InputError(
        f"{files.path}: looks like more than one kind of export "
        f"({', '.join(f.label for f in claiming)}); import the parts separately"
    )


@contextmanager
def claimed_export(
    path: str | os.PathLike[str], formats: Sequence[Format]
) -> Iterator[tuple[Format, ExportFiles]]:
    """The export at ``path`` opened, with the one format that claims it."""
    with open_files(path) as files:
        yield choose_format(files, formats), files
