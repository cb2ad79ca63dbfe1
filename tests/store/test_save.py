from __future__ import annotations

import copy

import pytest

from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store import open_db
from archiver.store.save import SaveOutcome, save_conversation
from tests.support.helpers import load_fixture


@pytest.fixture
def db(tmp_path):
    return open_db(tmp_path / "archive.db")


def fts_hits(db, query):
    return [
        row[0]
        for row in db.execute(
            "SELECT m.id FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
            "WHERE messages_fts MATCH ? ORDER BY m.id",
            [query],
        )
    ]


def test_new_then_unchanged(db):
    conv = load_fixture("chatgpt/branches.json")
    assert save_conversation(db, flatten_conversation(conv)) is SaveOutcome.NEW
    assert save_conversation(db, flatten_conversation(conv)) is SaveOutcome.UNCHANGED
    assert db["conversations"].count == 1
    assert db["messages"].count == 7
    assert fts_hits(db, "regenerated") == ["n-a1b"]


def test_changed_conversation_updates_rows_and_search(db):
    conv = load_fixture("chatgpt/branches.json")
    save_conversation(db, flatten_conversation(conv))
    changed = copy.deepcopy(conv)
    changed["mapping"]["n-a2"]["message"]["content"]["parts"] = ["Now about skip lists."]
    changed["update_time"] += 60
    assert save_conversation(db, flatten_conversation(changed)) is SaveOutcome.UPDATED
    assert fts_hits(db, "skip") == ["n-a2"]
    assert fts_hits(db, "linked") == []
    first_seen = db.execute("SELECT first_seen_at, archived_at FROM conversations").fetchone()
    assert first_seen[0] <= first_seen[1]


def test_nodes_upstream_dropped_are_kept_and_marked(db):
    conv = load_fixture("chatgpt/branches.json")
    save_conversation(db, flatten_conversation(conv))
    trimmed = copy.deepcopy(conv)
    del trimmed["mapping"]["n-a1b"]
    trimmed["mapping"]["n-u1"]["children"] = ["n-a1"]
    save_conversation(db, flatten_conversation(trimmed))
    row = db.execute("SELECT deleted_upstream_at, text FROM messages WHERE id = 'n-a1b'").fetchone()
    assert row[0] is not None and row[1] == "A regenerated answer about B-trees."
    assert db["messages"].count == 7
    assert fts_hits(db, "regenerated") == ["n-a1b"]  # still searchable
    # It comes back: unmarked.
    save_conversation(db, flatten_conversation(conv))
    assert (
        db.execute("SELECT deleted_upstream_at FROM messages WHERE id = 'n-a1b'").fetchone()[0]
        is None
    )


def test_keep_newer_refuses_an_older_copy(db):
    conv = load_fixture("chatgpt/branches.json")
    save_conversation(db, flatten_conversation(conv))
    older = copy.deepcopy(conv)
    older["update_time"] -= 3600
    older["title"] = "old title"
    assert (
        save_conversation(db, flatten_conversation(older, source="export"), keep_newer=True)
        is SaveOutcome.SKIPPED_OLDER
    )
    assert db.execute("SELECT title FROM conversations").fetchone()[0] == "Edits and regenerations"


def test_a_failed_save_leaves_nothing_behind(db):
    conv = load_fixture("chatgpt/branches.json")
    flat = flatten_conversation(conv)
    flat.messages.append(dict(flat.messages[0], conversation_id=None))  # NOT NULL violation
    with pytest.raises(Exception, match="NOT NULL"):
        save_conversation(db, flat)
    assert db["conversations"].count == 0
    assert db["messages"].count == 0


def test_unchanged_content_only_refreshes_the_list_key(db):
    conv = load_fixture("chatgpt/branches.json")
    save_conversation(db, flatten_conversation(conv, list_update_time="2023-12-06T02:41:14Z"))
    outcome = save_conversation(
        db, flatten_conversation(conv, list_update_time="2023-12-06T02:41:15Z")
    )
    assert outcome is SaveOutcome.UNCHANGED
    assert (
        db.execute("SELECT list_update_time FROM conversations").fetchone()[0]
        == "2023-12-06T02:41:15Z"
    )


def test_keep_newer_never_replaces_a_copy_of_the_same_version(db):
    conv = load_fixture("chatgpt/branches.json")
    save_conversation(db, flatten_conversation(conv))  # the live copy
    exported = copy.deepcopy(conv)
    exported["safe_urls"] = ["https://example.org"]  # differs, same update_time
    outcome = save_conversation(
        db, flatten_conversation(exported, source="export"), keep_newer=True
    )
    assert outcome is SaveOutcome.SKIPPED_OLDER
    assert db.execute("SELECT source FROM conversations").fetchone()[0] == "api"
