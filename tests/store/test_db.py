from __future__ import annotations

import stat

import pytest

from archiver.errors import ConfigError
from archiver.store.db import (
    Migration,
    applied_versions,
    apply_migrations,
    open_db,
    parse_migrations,
    schema_text,
)


def test_migrations_apply_from_an_empty_database_and_are_recorded(tmp_path):
    db = open_db(tmp_path / "a.db")
    versions = [m.version for m in parse_migrations(schema_text())]
    assert applied_versions(db) == set(versions)
    for table in ("conversations", "messages", "sync_state", "batch_items", "runs"):
        assert table in db.table_names()
    assert db["messages"].detect_fts() == "messages_fts"


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "a.db"
    open_db(path)
    db = open_db(path)
    assert apply_migrations(db) == []
    assert db.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(
        parse_migrations(schema_text())
    )


def test_a_new_migration_is_applied_once(tmp_path):
    db = open_db(tmp_path / "a.db")
    later = [*parse_migrations(schema_text()), Migration(999, "test", "CREATE TABLE t (x);")]
    assert apply_migrations(db, later) == [999]
    assert apply_migrations(db, later) == []
    assert "t" in db.table_names()


def test_database_file_is_private_and_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "a.db"
    db = open_db(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_not_a_database_is_a_config_error(tmp_path):
    path = tmp_path / "a.db"
    path.write_text("this is not sqlite, just text " * 100)
    with pytest.raises(ConfigError, match="not an SQLite database"):
        open_db(path)


def test_migrations_must_be_in_order():
    text = "-- migration: 2 b\nSELECT 1;\n-- migration: 1 a\nSELECT 1;\n"
    with pytest.raises(RuntimeError):
        parse_migrations(text)


def test_gateway_exchanges_of_the_old_route_name_are_renamed(tmp_path):
    db = open_db(tmp_path / "a.db")
    db.execute(
        "INSERT INTO gateway_exchanges (route, provider, prompt, status, started_at) "
        "VALUES ('openai', 'chatgpt', 'hi', 'done', '2026-01-01T00:00:00Z')"
    )
    db.execute("DELETE FROM _migrations WHERE version = 8")  # as an archive from before it
    db.conn.commit()
    db.close()
    reopened = open_db(tmp_path / "a.db")
    assert reopened.execute("SELECT route FROM gateway_exchanges").fetchall() == [
        ("chat_completions",)
    ]
