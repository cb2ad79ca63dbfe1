"""One run per database at a time: a non-blocking ``flock`` on ``<db>.lock``.

The lock is taken BEFORE the database is opened, so a second run neither creates, migrates nor
writes the database: it fails at once with LockedError (exit code 75). The kernel drops the lock
when the holder exits, even after ``kill -9``, so a crashed run never leaves a stale lock. The lock
file itself is never deleted: unlinking a flock file lets two runs lock two different files."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archiver.errors import ConfigError, LockedError


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    """``<db>.lock`` next to the database's real path: through a symlink, or a name with ``..``
    in it, two runs on one file still find one lock."""
    file = Path(db_path).resolve()
    return file.with_name(file.name + ".lock")


def _flock(fd: int, db_path: str | os.PathLike[str]) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LockedError(f"another archiver run is using {db_path}") from None


def _open_database_file(db_path: str | os.PathLike[str]) -> int | None:
    """The database file itself, for a second flock keyed on its identity (hard links share
    it, names do not). SQLite's own locks are POSIX record locks, which flock does not touch
    on Linux; the descriptor stays open until the database is closed, so closing it cannot
    drop SQLite's locks early."""
    try:
        return os.open(db_path, os.O_RDONLY)
    except OSError:
        return None  # not created yet (no other name can point at it) or unreadable


def check_database_path(db_path: str | os.PathLike[str]) -> None:
    """Refuse what cannot be a database file before anything is created: an empty path (an
    unset ``$DB`` in a cron script) or a directory such as ``/``."""
    if not str(db_path).strip():
        raise ConfigError("the database path is empty (an unset variable in a script?)")
    if Path(db_path).is_dir():
        raise ConfigError(f"{db_path} is a directory, not a database file")


def require_directory(db_path: str | os.PathLike[str]) -> None:
    """Refuse a database whose directory does not exist: never created silently, since a typo
    in the path would start a full download (or a gateway's archive) somewhere else."""
    folder = Path(db_path).parent
    if not folder.is_dir():
        raise ConfigError(
            f"the directory {folder} does not exist (create it first: mkdir -p {folder})"
        )


@contextmanager
def database_lock(db_path: str | os.PathLike[str]) -> Iterator[Path | None]:
    """Hold the database's lock for the block; raise LockedError if another run holds it.
    ``:memory:`` databases are private to their process and need no lock."""
    if str(db_path) == ":memory:":
        yield None
        return
    check_database_path(db_path)
    require_directory(db_path)
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create the lock file {path}: {exc.strerror}") from None
    db_fd: int | None = None
    try:
        _flock(fd, db_path)
        db_fd = _open_database_file(db_path)
        if db_fd is not None:
            _flock(db_fd, db_path)
        yield path
    finally:
        if db_fd is not None:
            os.close(db_fd)  # closing releases its flock
        os.close(fd)
