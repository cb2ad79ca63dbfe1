"""The export's other files: which message each belongs to, and extracting them safely.

Asset pointers name files by id, and the file is found by that id as the prefix of its name,
in any folder of the export: ``file-service://file-abc`` is ``file-abc-<original name>`` or
``file-abc.png`` at the root or ``dalle-generations/file-abc-<uuid>.webp``;
``sediment://file_0a1b`` is ``user-<id>/file_0a1b-<uuid>.png`` or ``file_0a1b-<name>``; audio
sits in a conversation's folder; ``metadata.attachments`` ids are bare ids. Members whose name
does not start with their id are named by ``conversation_asset_file_names.json`` (aliases).

Extraction treats the archive as hostile: member names with ``..``, absolute paths, drive
letters or NUL bytes are refused, symlink entries are refused, nothing is written through a
symlink or outside the destination, and per-file and total sizes are capped while copying (the
sizes a zip declares are not trusted)."""

from __future__ import annotations

import os
import re
import secrets
import stat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from archiver.errors import InputError

_FILE_ID = re.compile(r"file[-_][A-Za-z0-9]+")
_COPY_CHUNK = 1024 * 1024
MiB = 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 512 * MiB
DEFAULT_MAX_TOTAL_BYTES = 20 * 1024 * MiB
# One conversation's JSON text at most (a zip bomb: a small zip whose one message inflates to
# gigabytes would otherwise be held whole, several times over, while it is parsed).
DEFAULT_MAX_ENTRY_BYTES = 256 * MiB


@dataclass(frozen=True)
class FileEntry:
    """One file inside the export (zip member or file under the folder)."""

    name: str  # posix path relative to the export root, exactly as the zip names it
    size: int
    is_symlink: bool
    open: Callable[[], IO[bytes]]

    @property
    def depth(self) -> int:
        return self.name.count("/")


def file_id_of_pointer(pointer: str) -> str | None:
    """``file-service://file-abc`` → ``file-abc``; ``sediment://file_xyz`` → ``file_xyz``;
    a bare ``file-abc`` → itself."""
    rest = pointer.split("://", 1)[-1].rsplit("/", 1)[-1]
    match = _FILE_ID.match(rest)
    return match[0] if match else None


def file_id_of_name(name: str) -> str | None:
    """``dalle-generations/file-abc-1234.webp`` → ``file-abc``."""
    match = _FILE_ID.match(PurePosixPath(name.replace("\\", "/")).name)
    return match[0] if match else None


_SEPARATOR = re.compile(r"[-_.]")


def file_id_prefixes(name: str) -> list[str]:
    """Every file id this member's name can stand for: its base name cut before each ``-``,
    ``_`` or ``.`` after the ``file-``/``file_`` prefix, and whole. ``file-Abc-photo.png``
    stands for ``file-Abc`` (and, harmlessly, ``file-Abc-photo``...): an id is matched exactly,
    so ``file-Abcdef.png`` never stands for ``file-Abc``, and ids that hold a separator
    themselves are still found."""
    base = PurePosixPath(name.replace("\\", "/")).name
    if not base.startswith(("file-", "file_")) or len(base) <= 5:
        return []
    cuts = [m.start() for m in _SEPARATOR.finditer(base, 5)]
    return [base[:cut] for cut in cuts if cut > 5] + [base]


def unsafe_reason(name: str) -> str | None:
    """Why a member name must not be extracted, or None when it is a plain relative path."""
    if "\x00" in name:
        return "has a NUL byte in its name"
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        return "has an absolute path"
    parts = [p for p in normalized.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "climbs out of the folder (..)"
    if not parts:
        return "has an empty name"
    return None


class FileIndex:
    """The export's files by file id, for matching asset pointers. Only plain, safe members
    are indexed (the reader reports the others)."""

    def __init__(self, entries: Iterable[FileEntry]):
        self._by_id: dict[str, list[FileEntry]] = {}
        for entry in entries:
            for ident in file_id_prefixes(entry.name):
                self._by_id.setdefault(ident, []).append(entry)
        for candidates in self._by_id.values():
            # Shallowest first (the export root), then name order: deterministic.
            candidates.sort(key=lambda e: (e.depth, e.name))

    def __len__(self) -> int:
        return len(self._by_id)

    def add_alias(self, ident: str, entry: FileEntry) -> None:
        """A file id whose member does not start with it (named by a manifest), or a whole
        pointer that names this member (an export whose files are found by path)."""
        self._by_id.setdefault(ident, []).append(entry)

    def find(self, pointer: str) -> FileEntry | None:
        rest = pointer.split("://", 1)[-1].rsplit("/", 1)[-1].strip()
        candidates = self._by_id.get(pointer) or self._by_id.get(rest)
        if not candidates:
            ident = file_id_of_pointer(pointer)
            candidates = self._by_id.get(ident) if ident else None
        return candidates[0] if candidates else None


def open_zip(path: Path) -> zipfile.ZipFile:
    """The export zip at ``path``; InputError (exit 2) when it cannot be read as one."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable zip file ({exc})") from None


def zip_entries(archive: zipfile.ZipFile) -> list[FileEntry]:
    """Every file member of the zip (folders left out), as the zip names it."""

    def opener(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
        return lambda: archive.open(info)

    return [
        FileEntry(
            info.filename,
            info.file_size,
            stat.S_ISLNK(info.external_attr >> 16),
            opener(info),
        )
        for info in archive.infolist()
        if not info.is_dir()
    ]


def folder_entries(root: Path, names: Iterable[str]) -> list[FileEntry]:
    """Every file under the unpacked export's folder (symlinks are entries, never followed)."""

    def opener(path: Path) -> Callable[[], IO[bytes]]:
        # O_NOFOLLOW: a file swapped for a symlink after indexing is still not followed.
        return lambda: os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")

    entries = []
    for name in names:
        path = root / name
        try:
            info = path.lstat()
        except OSError:
            continue
        entries.append(FileEntry(name, info.st_size, stat.S_ISLNK(info.st_mode), opener(path)))
    return entries


def walked_entries(root: Path) -> list[FileEntry]:
    """Every file of the unpacked export under ``root``, walked (the ``__MACOSX`` folders an
    unzip on macOS leaves are not the export's)."""
    names: list[str] = []
    for folder, dirs, files in os.walk(root):  # does not follow symlinked folders
        dirs[:] = [d for d in dirs if not d.startswith("__MACOSX")]
        rel = Path(folder).relative_to(root)
        names.extend((rel / f).as_posix() for f in files)
    return folder_entries(root, names)


class ExtractRefused(Exception):
    """This file is not extracted (unsafe name, symlink, too big); the message says why."""


@dataclass(frozen=True)
class ExtractLimits:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES  # one conversation's JSON text


class Extractor:
    """Copies export files under one destination folder, never anywhere else."""

    def __init__(self, dest: str | os.PathLike[str], limits: ExtractLimits | None = None):
        self.limits = limits or ExtractLimits()
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        self.root = dest.resolve()
        self.total_bytes = 0
        self.extracted = 0
        self._done: dict[str, Path] = {}

    def extract(self, entry: FileEntry) -> Path:
        """Extract ``entry`` (once per run) and return where it is; raise ExtractRefused."""
        if entry.name in self._done:
            return self._done[entry.name]
        reason = unsafe_reason(entry.name)
        if reason:
            raise ExtractRefused(f"refused to extract {entry.name!r}: it {reason}")
        if entry.is_symlink:
            raise ExtractRefused(f"refused to extract {entry.name!r}: it is a symbolic link")
        if entry.size > self.limits.max_file_bytes:
            raise ExtractRefused(
                f"refused to extract {entry.name!r}: {entry.size} bytes is over the "
                f"per-file limit of {self.limits.max_file_bytes}"
            )
        target = self._target(entry.name)
        if target.is_file() and not target.is_symlink() and target.stat().st_size == entry.size:
            self._done[entry.name] = target  # already extracted by an earlier run
            return target
        if self.total_bytes + entry.size > self.limits.max_total_bytes:
            raise ExtractRefused(
                f"refused to extract {entry.name!r}: the total extraction limit of "
                f"{self.limits.max_total_bytes} bytes is reached"
            )
        self._copy(entry, target)
        self._done[entry.name] = target
        self.extracted += 1
        return target

    def _target(self, name: str) -> Path:
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        folder = self.root
        for part in parts[:-1]:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise ExtractRefused(f"refused to extract {name!r}: {folder} is not a plain folder")
            folder.mkdir(mode=0o700, exist_ok=True)
        target = folder / parts[-1]
        if not target.parent.resolve().is_relative_to(self.root):
            raise ExtractRefused(f"refused to extract {name!r}: it would land outside {self.root}")
        if target.exists() and not target.is_symlink() and not target.is_file():
            raise ExtractRefused(f"refused to extract {name!r}: {target} is not a regular file")
        return target

    def _copy(self, entry: FileEntry, target: Path) -> None:
        """Write to a private temporary file, then rename over the target: a symlink planted at
        the target is replaced, never followed."""
        # A short name of its own: the member's name may already be near the 255-byte limit.
        temp = target.with_name(f".archiver-{os.getpid()}-{secrets.token_hex(4)}.part")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        written = 0
        try:
            with os.fdopen(fd, "wb") as out, entry.open() as source:
                while chunk := source.read(_COPY_CHUNK):
                    written += len(chunk)
                    if written > self.limits.max_file_bytes:
                        raise ExtractRefused(
                            f"refused to extract {entry.name!r}: it grew past the per-file "
                            f"limit of {self.limits.max_file_bytes} bytes"
                        )
                    if self.total_bytes + written > self.limits.max_total_bytes:
                        raise ExtractRefused(
                            f"refused to extract {entry.name!r}: the total extraction limit "
                            f"of {self.limits.max_total_bytes} bytes is reached"
                        )
                    out.write(chunk)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self.total_bytes += written
