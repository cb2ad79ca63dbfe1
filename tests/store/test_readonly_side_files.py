"""Finding 7: querying a 0444 archive leaves no read-only -shm/-wal behind, and a backup
repairs such side files left by an older version."""

from __future__ import annotations

import os

from archiver.query.connect import open_readonly
from archiver.store import open_db


def test_a_readonly_archive_is_read_without_side_files(tmp_path):
    path = tmp_path / "archive.db"
    open_db(path).close()
    for suffix in ("-shm", "-wal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.chmod(path, 0o444)
    conn = open_readonly(path)
    assert conn.execute("SELECT count(*) FROM conversations").fetchone() == (0,)
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.db"]


def test_readonly_side_files_are_repaired_before_writing(tmp_path):
    path = tmp_path / "archive.db"
    open_db(path).close()
    shm = path.with_name("archive.db-shm")
    shm.write_bytes(b"")
    os.chmod(shm, 0o444)
    db = open_db(path)
    db.execute("INSERT INTO sync_state (provider, account, base_url, feed) VALUES ('x','','','f')")
    db.conn.commit()
    assert shm.stat().st_mode & 0o200  # writable again, also for a user who is not root
    db.close()
