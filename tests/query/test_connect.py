"""Opening an archive read-only when its directory is not writable (WAL needs a -shm file)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from archiver.errors import ConfigError
from archiver.query import connect
from archiver.query.connect import open_readonly


def conversation_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM conversations").fetchone()[0]


def expected_count(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conversation_count(conn)
    finally:
        conn.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_wal_archive_in_a_read_only_directory_opens(archive_path):
    expected = expected_count(archive_path)
    directory = archive_path.parent
    directory.chmod(0o555)
    try:
        conn = open_readonly(archive_path)
        assert conversation_count(conn) == expected > 0
        conn.close()
    finally:
        directory.chmod(0o755)
    assert sorted(p.name for p in directory.iterdir()) == ["archive.db"]


@pytest.fixture
def shm_cannot_be_created(monkeypatch):
    """What SQLite does for a WAL archive in a directory we cannot write, simulated so that the
    test also runs as root: every connection but an ``immutable`` one fails as SQLite fails."""
    real_connect = connect._connect

    def refusing_connect(uri):
        if "immutable=1" not in uri:
            error = sqlite3.OperationalError("attempt to write a readonly database")
            error.sqlite_errorname = "SQLITE_READONLY_DIRECTORY"
            raise error
        return real_connect(uri)

    monkeypatch.setattr(connect, "_connect", refusing_connect)


def test_checkpointed_wal_archive_opens_immutable(archive_path, shm_cannot_be_created):
    assert not archive_path.with_name("archive.db-wal").exists()  # the writer closed cleanly
    expected = expected_count(archive_path)
    conn = open_readonly(archive_path)
    assert conversation_count(conn) == expected > 0
    conn.close()


def test_pending_wal_is_refused_with_the_reason(archive_path, shm_cannot_be_created):
    archive_path.with_name("archive.db-wal").write_bytes(b"\0" * 32)  # commits not checkpointed
    with pytest.raises(ConfigError) as info:
        open_readonly(archive_path)
    message = str(info.value)
    assert "directory is not writable" in message and "archive.db-shm" in message
    assert "not an SQLite database" not in message


def test_a_file_that_is_not_sqlite_is_still_named_so(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all, just some text" * 100)
    with pytest.raises(ConfigError, match="is not an SQLite database"):
        open_readonly(junk)
