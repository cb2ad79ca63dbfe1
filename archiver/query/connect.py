"""Open an archive for reading only: never create a file, never take the write lock, so a query
runs alongside a backup (WAL readers do not block writers) and cannot change the archive."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from archiver.errors import ConfigError


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to an existing archive; a clear ConfigError otherwise."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"no archive at {file}")
    if file.is_dir():
        raise ConfigError(f"{file} is a directory, not a database file")
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{file} is not an SQLite database ({exc})") from None
    if not {"conversations", "messages", "messages_fts"} <= tables:
        conn.close()
        raise ConfigError(f"{file} is not an archiver database (no conversations/messages tables)")
    return conn
