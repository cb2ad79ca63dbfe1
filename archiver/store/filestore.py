"""A content-addressed file store next to the archive database (git-like layout).

``archive.db`` keeps its files in ``archive.db.files/<sha256[:2]>/<sha256>``. A file is written
to ``<root>/tmp/<random name>``, fsynced, then renamed into place, so a crash, a kill -9 or a full
disk never leaves half a file under its hash: readers see a whole file or none. The same bytes
are stored once whoever brings them (the backup's downloads, the export import).

Back it up with the database: the folder holds only immutable files named by their hash, so
``rsync -a archive.db.files/ elsewhere/`` (or any copy) is enough; ``tmp/`` can be skipped.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from archiver.errors import ArchiverError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_READ_SIZE = 1 << 20


class FileStoreError(ArchiverError):
    """A file could not be stored (disk full, permissions); nothing half-written is left."""


class FileTooLarge(FileStoreError):
    """The file is larger than the caller's max_bytes; nothing is kept."""

    def __init__(self, max_bytes: int, seen: int) -> None:
        super().__init__(f"file larger than the limit of {max_bytes} bytes (at least {seen})")
        self.max_bytes = max_bytes
        self.seen = seen


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path


class FileStore:
    """Immutable files named by their sha256 under ``root``; directories 0700, files 0600."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def for_database(cls, db_path: str | os.PathLike[str]) -> FileStore:
        """The store beside a database file: ``archive.db`` -> ``archive.db.files/``."""
        path = Path(db_path)
        return cls(path.with_name(path.name + ".files"))

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a lowercase sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        try:
            return self.path_for(sha256).is_file()
        except ValueError:
            return False

    def put_bytes(self, data: bytes) -> StoredFile:
        return self.put_chunks([data])

    def put_file(self, path: str | os.PathLike[str], max_bytes: int | None = None) -> StoredFile:
        with open(path, "rb") as source:
            return self.put_chunks(_read_chunks(source), max_bytes=max_bytes)

    def put_chunks(self, chunks: Iterable[bytes], max_bytes: int | None = None) -> StoredFile:
        with self._writer(max_bytes) as writer:
            for chunk in chunks:
                with writer.disk_errors():
                    writer.write(chunk)
        return writer.result()

    async def put_async_chunks(
        self, chunks: AsyncIterator[bytes], max_bytes: int | None = None
    ) -> StoredFile:
        # Writes are small and sequential; doing them inline keeps the temp-file handling in one
        # place (a thread hop per chunk costs more than the write for typical image sizes).
        with self._writer(max_bytes) as writer:
            async for chunk in chunks:  # (a read timeout here is the source's, not the disk's)
                with writer.disk_errors():
                    writer.write(chunk)
        return writer.result()

    @contextmanager
    def _writer(self, max_bytes: int | None) -> Iterator[_TempWriter]:
        """A temp file to write, renamed into place at the end. Only the store's own file
        operations are disk errors (FileStoreError): what the bytes' source raises (a read
        timeout is an OSError too) reaches the caller as it was."""
        tmp_dir = self.root / "tmp"
        try:
            _make_private_dir(self.root)
            _make_private_dir(tmp_dir)
        except OSError as exc:
            raise FileStoreError(_os_message(f"cannot create {tmp_dir}", exc)) from None
        writer = _TempWriter(tmp_dir / f"{secrets.token_hex(8)}.part", max_bytes, self.root)
        try:
            with writer.disk_errors():
                writer.open()
            yield writer
            with writer.disk_errors():
                writer.finish(self)
        except BaseException:
            writer.discard()
            raise


class _TempWriter:
    def __init__(self, tmp_path: Path, max_bytes: int | None, root: Path) -> None:
        self.tmp_path = tmp_path
        self.root = root
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        self._file: BinaryIO | None = None
        self._stored: StoredFile | None = None

    def open(self) -> None:
        fd = os.open(self.tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        self._file = os.fdopen(fd, "wb")

    @contextmanager
    def disk_errors(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise FileStoreError(_os_message(f"cannot store a file in {self.root}", exc)) from None

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise FileTooLarge(self.max_bytes, self.size)
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self, store: FileStore) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        sha256 = self._hash.hexdigest()
        final = store.path_for(sha256)
        if final.is_file():
            self.tmp_path.unlink(missing_ok=True)  # the same bytes are already stored
        else:
            _make_private_dir(final.parent)
            os.replace(self.tmp_path, final)
            _fsync_dir(final.parent)
        self._stored = StoredFile(sha256=sha256, size=self.size, path=final)

    def discard(self) -> None:
        if self._file is not None:
            # Closing a file on a full disk can fail again; the unlink below must still run.
            with suppress(OSError):
                self._file.close()
            self._file = None
        with suppress(OSError):
            self.tmp_path.unlink(missing_ok=True)

    def result(self) -> StoredFile:
        assert self._stored is not None
        return self._stored


def _read_chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(_READ_SIZE):
        yield chunk


def _make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _fsync_dir(path: Path) -> None:
    """Make the rename durable; some filesystems cannot open a directory, which is harmless."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _os_message(prefix: str, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{prefix}: the disk is full (no partial file was kept)"
    return f"{prefix}: {exc.strerror or exc}"


def store_beside(db: Any) -> FileStore | None:
    """The file store next to an open archive database (None for an in-memory one)."""
    row = db.execute("PRAGMA database_list").fetchone()
    return FileStore.for_database(row[2]) if row and row[2] else None
