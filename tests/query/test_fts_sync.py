"""The full-text index follows every write path of save_conversation."""

from __future__ import annotations

import copy

from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.query.search import search_messages
from archiver.store import open_db
from archiver.store.save import SaveOutcome, save_conversation
from tests.support.helpers import load_fixture


def index_is_consistent(db) -> bool:
    # With rank = 1, FTS5 checks the index against the content table (messages) itself.
    db.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    return True


def hits(db, query):
    return sorted(h.node_id for h in search_messages(db, query))


def test_index_follows_insert_update_unchanged_and_deleted_upstream(tmp_path):
    db = open_db(tmp_path / "a.db")
    conv = load_fixture("chatgpt/branches.json")

    assert save_conversation(db, flatten_conversation(conv)) is SaveOutcome.NEW
    assert index_is_consistent(db)
    assert hits(db, "linked") == ["n-a2"]
    fts_rows = db.execute("SELECT count(*) FROM messages_fts").fetchone()[0]

    assert save_conversation(db, flatten_conversation(conv)) is SaveOutcome.UNCHANGED
    assert index_is_consistent(db)
    assert db.execute("SELECT count(*) FROM messages_fts").fetchone()[0] == fts_rows

    changed = copy.deepcopy(conv)
    changed["mapping"]["n-a2"]["message"]["content"]["parts"] = ["Skip lists, not B+ trees."]
    changed["mapping"]["n-a1"]["message"]["metadata"]["model_slug"] = "gpt-4-turbo"  # not text
    changed["update_time"] += 60
    assert save_conversation(db, flatten_conversation(changed)) is SaveOutcome.UPDATED
    assert index_is_consistent(db)
    assert hits(db, "linked") == []
    assert hits(db, "skip") == ["n-a2"]
    assert hits(db, "balanced") == ["n-a1"]

    dropped = copy.deepcopy(changed)
    del dropped["mapping"]["n-a1b"]
    dropped["mapping"]["n-u1"]["children"] = ["n-a1"]
    dropped["update_time"] += 60
    assert save_conversation(db, flatten_conversation(dropped)) is SaveOutcome.UPDATED
    assert index_is_consistent(db)
    assert hits(db, "regenerated") == ["n-a1b"]  # kept and still searchable

    # It comes back upstream, with new text.
    back = copy.deepcopy(changed)
    back["mapping"]["n-a1b"]["message"]["content"]["parts"] = ["A rewritten answer."]
    back["update_time"] += 120
    assert save_conversation(db, flatten_conversation(back)) is SaveOutcome.UPDATED
    assert index_is_consistent(db)
    assert hits(db, "regenerated") == []
    assert hits(db, "rewritten") == ["n-a1b"]
    assert db.execute("SELECT count(*) FROM messages_fts").fetchone()[0] == fts_rows
