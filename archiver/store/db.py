"""Open an archive database: 0600 file, WAL, migrations from schema.sql applied once each.

Writes use explicit ``BEGIN IMMEDIATE`` transactions on an autocommit connection. sqlite-utils'
own write helpers commit internally (``with conn:``), which would split our per-conversation
transactions, so the save functions use plain SQL and sqlite-utils serves reads and introspection.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlite_utils

from archiver.errors import ConfigError
from archiver.timeutil import utc_now_iso

_MIGRATION_HEADER = re.compile(r"^-- migration: (\d+) (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def schema_text() -> str:
    """schema.sql from the installed package, else from the source checkout (editable installs)."""
    packaged = resources.files("archiver").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "schema.sql").read_text(encoding="utf-8")


def parse_migrations(text: str) -> list[Migration]:
    headers = list(_MIGRATION_HEADER.finditer(text))
    migrations = []
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        migrations.append(Migration(int(match[1]), match[2].strip(), text[match.end() : end]))
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise RuntimeError(
            f"schema.sql migrations must be numbered in increasing order: {versions}"
        )
    return migrations


def _create_private_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does: it holds private conversations.
    SQLite gives the -wal and -shm files the same permissions as the database file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)


def open_db(path: str | os.PathLike[str], *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) an archive and bring its schema up to date."""
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", isolation_level=None)
    else:
        file = Path(path)
        _check_writable(file)
        if not file.exists():
            _create_private_file(file)
        try:
            conn = sqlite3.connect(file, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{file} is not an SQLite database ({exc})") from None
        _refuse_foreign_database(conn, file)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed data
    conn.execute("PRAGMA temp_store = MEMORY")  # the per-conversation staging table
    db = sqlite_utils.Database(conn)
    if migrate:
        apply_migrations(db)
    return db


def _repair_side_files(file: Path) -> None:
    """-shm/-wal files left read-only (a reader of a 0444 archive by an older archiver) make
    every write fail with "attempt to write a readonly database": make ours writable again."""
    for suffix in ("-shm", "-wal"):
        side = file.with_name(file.name + suffix)
        try:
            info = side.lstat()
        except OSError:
            continue
        if (
            stat.S_ISREG(info.st_mode)
            and info.st_uid == os.getuid()
            and not info.st_mode & stat.S_IWUSR
        ):
            os.chmod(side, 0o600)


def _check_writable(file: Path) -> None:
    if not str(file).strip() or str(file) == ".":
        raise ConfigError("the database path is empty (an unset variable in a script?)")
    if file.is_dir():
        raise ConfigError(f"{file} is a directory, not a database file")
    if file.exists() and not os.access(file, os.W_OK):
        raise ConfigError(f"{file} is read-only: the archive must be writable")
    _repair_side_files(file)
    folder = file.parent if file.parent != Path("") else Path(".")
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write in {folder}: SQLite keeps {file.name}-wal beside it")


def _refuse_foreign_database(conn: sqlite3.Connection, file: Path) -> None:
    """Never add archive tables to somebody else's database."""
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if names and "_migrations" not in names:
        conn.close()
        raise ConfigError(f"{file} is an SQLite database but not an archive: choose another file")


def applied_versions(db: sqlite_utils.Database) -> set[int]:
    if "_migrations" not in db.table_names():
        return set()
    return {row[0] for row in db.execute("SELECT version FROM _migrations")}


def apply_migrations(
    db: sqlite_utils.Database, migrations: list[Migration] | None = None
) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; return those applied."""
    migrations = parse_migrations(schema_text()) if migrations is None else migrations
    done = applied_versions(db)
    if all(m.version in done for m in migrations):
        return []  # the common case: no write lock taken just to open the archive
    with transaction(db):
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    applied = []
    for migration in migrations:
        if migration.version in done:
            continue
        with transaction(db):
            # Another process may have migrated between our read and our lock.
            if db.execute(
                "SELECT 1 FROM _migrations WHERE version = ?", [migration.version]
            ).fetchone():
                continue
            for statement in _split_statements(migration.sql):
                db.execute(statement)
            db.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, utc_now_iso()],
            )
        applied.append(migration.version)
    return applied


def _split_statements(sql: str) -> Iterator[str]:
    """Split a script into complete statements (triggers contain inner semicolons)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise RuntimeError(f"incomplete SQL statement in schema.sql: {buffer[:80]!r}")


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One atomic write: everything inside commits together or not at all."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
