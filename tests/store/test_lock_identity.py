"""Finding 3: two runs on one database file through different names exclude each other."""

from __future__ import annotations

import os

import pytest

from archiver.errors import LockedError
from archiver.store import open_db
from archiver.store.lock import database_lock


def test_a_symlink_cannot_bypass_the_lock(tmp_path):
    real = tmp_path / "archive.db"
    open_db(real).close()
    link = tmp_path / "other-name.db"
    link.symlink_to(real)
    with database_lock(real), pytest.raises(LockedError), database_lock(link):
        pass
    with database_lock(link), pytest.raises(LockedError), database_lock(real):
        pass


def test_a_symlinked_directory_cannot_bypass_the_lock(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "data")
    first, second = tmp_path / "data" / "a.db", tmp_path / "alias" / "a.db"
    with database_lock(first), pytest.raises(LockedError), database_lock(second):
        pass


def test_a_hard_link_cannot_bypass_the_lock(tmp_path):
    real = tmp_path / "archive.db"
    open_db(real).close()
    os.link(real, tmp_path / "hard.db")
    with database_lock(real), pytest.raises(LockedError), database_lock(tmp_path / "hard.db"):
        pass
    with database_lock(real):  # released
        pass
