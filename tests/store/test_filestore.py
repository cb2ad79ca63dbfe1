"""The content-addressed file store: layout, permissions, limits, and no half files."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import stat
from pathlib import Path

import pytest

from archiver.store import filestore
from archiver.store.db import open_db
from archiver.store.filestore import FileStore, FileStoreError, FileTooLarge


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_for_database_puts_the_store_beside_the_db(tmp_path: Path) -> None:
    store = FileStore.for_database(tmp_path / "archive.db")
    assert store.root == tmp_path / "archive.db.files"


def test_put_bytes_is_git_like_and_private(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    data = b"a png, say"
    digest = hashlib.sha256(data).hexdigest()
    stored = store.put_bytes(data)
    assert stored.sha256 == digest
    assert stored.size == len(data)
    assert stored.path == tmp_path / "files" / digest[:2] / digest
    assert stored.path.read_bytes() == data
    assert store.has(digest) and store.path_for(digest) == stored.path
    assert _mode(stored.path) == 0o600
    assert _mode(stored.path.parent) == 0o700
    assert _mode(store.root) == 0o700
    assert list((store.root / "tmp").iterdir()) == []


def test_same_bytes_twice_are_stored_once(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    first = store.put_chunks([b"ab", b"cd"])
    second = store.put_bytes(b"abcd")
    assert first == second
    assert [p for p in store.root.rglob("*") if p.is_file()] == [first.path]


def test_put_file_and_has(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    store = FileStore(tmp_path / "files")
    stored = store.put_file(source)
    assert stored.path.read_bytes() == source.read_bytes()
    assert not store.has("0" * 64)
    assert not store.has("not a hash")
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd")


def test_max_bytes_refuses_and_leaves_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    with pytest.raises(FileTooLarge) as caught:
        store.put_chunks([b"x" * 10, b"y" * 10], max_bytes=15)
    assert "15 bytes" in str(caught.value)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []
    assert store.put_bytes(b"x" * 15).size == 15  # exactly the limit is fine


def test_put_async_chunks(tmp_path: Path) -> None:
    async def chunks():
        for part in (b"one", b"two"):
            yield part

    store = FileStore(tmp_path / "files")
    stored = asyncio.run(store.put_async_chunks(chunks()))
    assert stored.path.read_bytes() == b"onetwo"

    with pytest.raises(FileTooLarge):
        asyncio.run(store.put_async_chunks(chunks(), max_bytes=4))
    assert list((store.root / "tmp").iterdir()) == []


def test_disk_full_while_writing_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path / "files")
    real_write = filestore._TempWriter.write
    calls = {"n": 0}

    def full_disk(self, chunk: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, chunk)

    monkeypatch.setattr(filestore._TempWriter, "write", full_disk)
    with pytest.raises(FileStoreError) as caught:
        store.put_chunks([b"first", b"second", b"third"])
    assert "disk is full" in str(caught.value)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_disk_full_at_fsync_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path / "files")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(filestore.os, "fsync", no_space)
    with pytest.raises(FileStoreError, match="disk is full"):
        store.put_bytes(b"data")
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_an_interrupted_write_removes_its_temp_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")

    def chunks():
        yield b"part"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.put_chunks(chunks())
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_migration_4_columns_and_tables(tmp_path: Path) -> None:
    db = open_db(tmp_path / "archive.db")
    columns = {c.name for c in db["attachments"].columns}
    assert {
        "sha256",
        "size_bytes",
        "mime_type",
        "file_name",
        "download_status",
        "downloaded_at",
        "download_error",
    } <= columns
    assert {"textdocs", "projects", "account_state"} <= set(db.table_names())
    assert db.table("textdocs").pks == ["id", "version"]
    assert "gizmo_id" in {c.name for c in db["conversations"].columns}
    assert {"message_citations", "message_models"} <= set(db.view_names())
    assert "message_citations" in db.view_names()
