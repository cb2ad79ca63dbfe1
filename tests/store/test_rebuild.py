from __future__ import annotations

import pytest

from archiver.providers import registry
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.reflatten import rebuild_conversation
from archiver.store import open_db
from archiver.store.rebuild import reflatten, stored_rows
from archiver.store.save import save_conversation
from tests.support.helpers import load_fixture

FIXTURES = ["chatgpt/branches.json", "chatgpt/content_types.json", "chatgpt/broken_tree.json"]


def message_rows(db):
    return db.execute("SELECT * FROM messages ORDER BY conversation_id, id").fetchall()


@pytest.mark.parametrize("name", FIXTURES)
def test_raw_json_in_the_archive_rebuilds_the_same_rows(tmp_path, name):
    db = open_db(tmp_path / "a.db")
    original = flatten_conversation(load_fixture(name), requested_id="rid")
    save_conversation(db, original)
    rebuilt = flatten_conversation(
        rebuild_conversation(*stored_rows(db, original.id)), requested_id="rid"
    )
    assert rebuilt.messages == original.messages
    # The content hash covers what is stored, so even it comes back the same.
    assert rebuilt.conversation == original.conversation


def every_reflattener():
    return {p.name: p.reflatten for p in registry.with_capability("reflatten")}


def test_reflatten_rewrites_rows_flattened_by_an_older_version(tmp_path):
    db = open_db(tmp_path / "a.db")
    save_conversation(db, flatten_conversation(load_fixture("chatgpt/branches.json")))
    before = message_rows(db)
    # Simulate rows from an older, worse flattener: lost text, stale version.
    db.execute("UPDATE messages SET text = NULL")
    db.execute("UPDATE conversations SET flattener_version = 0")
    assert reflatten(db, every_reflattener()).conversations == 1
    assert message_rows(db) == before
    assert reflatten(db, every_reflattener()).conversations == 0  # nothing stale left
    assert reflatten(db, every_reflattener(), everything=True).conversations == 1
    assert message_rows(db) == before
    hits = db.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'regenerated'")
    assert hits.fetchone()[0] == 1


@pytest.mark.slow
def test_reflatten_verbose_names_each_conversation(tmp_path):
    import subprocess
    import sys

    def reflatten_cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "archiver", "reflatten", *args, str(tmp_path / "a.db")]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    db = open_db(tmp_path / "a.db")
    flat = flatten_conversation(load_fixture("chatgpt/branches.json"))
    save_conversation(db, flat)
    db.execute("UPDATE conversations SET flattener_version = 0")
    db.conn.commit()
    result = reflatten_cli("-v")
    assert result.returncode == 0, result.stderr
    assert f"re-derived {flat.id}: {len(flat.messages)} messages" in result.stderr
    plain = reflatten_cli("--all")
    assert "re-derived" not in plain.stderr and "conversations 1" in plain.stdout
