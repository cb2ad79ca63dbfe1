"""Open an archive for reading only: never create a file, never take the write lock, so a query
runs alongside a backup (WAL readers do not block writers) and cannot change the archive."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from archiver.errors import ConfigError

# What SQLite reports when a WAL database cannot be read because its -shm file cannot be
# created (the directory is not writable) or initialised.
_CANNOT_MAKE_SHM = ("SQLITE_READONLY_DIRECTORY", "SQLITE_READONLY_CANTINIT")


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to an existing archive; a clear ConfigError otherwise."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"no archive at {file}")
    if file.is_dir():
        raise ConfigError(f"{file} is a directory, not a database file")
    uri = f"{file.resolve().as_uri()}?mode=ro"
    if _readonly(file) and not _wal_has_commits(file):
        # A read-only archive (chmod 444): a WAL reader would create -shm/-wal side files with
        # the database's mode, 0444, and once the archive is made writable again every backup
        # would fail on the read-only -shm. Read it immutably: no side files at all.
        try:
            conn, tables = _connect(uri + "&immutable=1")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{file} is not an SQLite database ({exc})") from None
        return _checked(conn, tables, file)
    try:
        conn, tables = _connect(uri)
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorname", None) not in _CANNOT_MAKE_SHM:
            raise ConfigError(f"{file} is not an SQLite database ({exc})") from None
        conn, tables = _connect_immutable(file, uri)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{file} is not an SQLite database ({exc})") from None
    return _checked(conn, tables, file)


def _checked(conn: sqlite3.Connection, tables: set[str], file: Path) -> sqlite3.Connection:
    if not {"conversations", "messages", "messages_fts"} <= tables:
        conn.close()
        raise ConfigError(f"{file} is not an archiver database (no conversations/messages tables)")
    return conn


def _readonly(file: Path) -> bool:
    """Not writable by us, or marked read-only by its mode (root ignores the mode, SQLite's
    side files still copy it)."""
    return not os.access(file, os.W_OK) or not file.stat().st_mode & 0o222


def _wal_has_commits(file: Path) -> bool:
    wal = file.with_name(file.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def _connect(uri: str) -> tuple[sqlite3.Connection, set[str]]:
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except BaseException:
        conn.close()
        raise
    return conn, tables


def _connect_immutable(file: Path, uri: str) -> tuple[sqlite3.Connection, set[str]]:
    """The archive is in WAL mode and its directory is not writable, so SQLite cannot create
    the ``-shm`` file every WAL reader needs.

    With no ``-wal`` file (or an empty one) everything committed is in the database file itself,
    and ``immutable=1`` reads it without ``-shm`` and without locks. The trade-off: SQLite then
    assumes nobody changes the file while it is open, so a writer with more rights than we have
    (a backup run by another user) could make this query see a half-written page. A read-only
    query is worth that small risk; a non-empty ``-wal`` is not: it holds commits that
    ``immutable`` would silently leave out, so that case is refused."""
    wal = file.with_name(file.name + "-wal")
    if not (wal.exists() and wal.stat().st_size > 0):
        try:
            return _connect(uri + "&immutable=1")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{file} is not an SQLite database ({exc})") from None
    raise ConfigError(
        f"cannot open {file} read-only: its directory is not writable "
        f"(SQLite's WAL mode needs to create {file.name}-shm); "
        "run the query as the archive's owner, or copy the archive to a writable directory"
    )
