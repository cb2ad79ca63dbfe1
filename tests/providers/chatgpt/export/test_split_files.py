"""Split exports (docs/protocol/chatgpt-export.md, "Layouts"): which files are conversation
files, in which order, what a manifest naming a missing file does, a conversation found in two
files, and slimmed files whose nodes have no ``children``."""

from __future__ import annotations

import json

from archiver.providers.chatgpt.export.reader import pick_conversation_files
from archiver.providers.chatgpt.export.run import import_export
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.flatten_raw import flatten_entry
from archiver.store import open_db
from tests.support.export_helpers import as_json, conversation, write_zip


def test_conversation_file_names_and_order():
    names = [
        "conversations-010.json",
        "conversations-2.json",
        "conversations.json",
        "conversations-000.json",
        "conversations.json.index",
        "conversations_backup.json",
        "old-conversations.json",
        "export_manifest.json",
    ]
    assert pick_conversation_files(names) == [
        "conversations.json",
        "conversations-000.json",
        "conversations-2.json",
        "conversations-010.json",
    ]


def answer(db, cid):
    return db.execute(
        "SELECT text FROM messages WHERE conversation_id = ? AND role = 'assistant'", [cid]
    ).fetchone()[0]


def test_a_conversation_in_two_files_keeps_its_newest_update_time(tmp_path):
    old = conversation("c1", update_time=1701800000.0, answer="Old.")
    new = conversation("c1", update_time=1701900000.0, answer="New.")
    for first, second in ((old, new), (new, old)):
        path = write_zip(
            tmp_path / "e.zip",
            files={
                "conversations-000.json": as_json([first, conversation("c2")]),
                "conversations-001.json": as_json([second]),
            },
        )
        db = open_db(tmp_path / f"{id(first)}.db")
        summary = import_export(db, path)
        assert (summary.read, summary.duplicates, summary.exit_code) == (3, 1, 0)
        assert answer(db, "c1") == "New."


def test_conversations_json_wins_a_tie_with_a_split_file(tmp_path):
    path = write_zip(
        tmp_path / "e.zip",
        files={
            "conversations.json": as_json([conversation("c1", answer="From the whole file.")]),
            "conversations-000.json": as_json([conversation("c1", answer="From a part.")]),
        },
    )
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, path)
    assert summary.duplicates == 1 and summary.skipped_older == 1
    assert answer(db, "c1") == "From the whole file."


def test_a_manifest_listing_a_missing_file_warns_imports_the_rest_and_exits_3(tmp_path):
    path = write_zip(
        tmp_path / "e.zip",
        files={
            "conversations-000.json": as_json([conversation("c0")]),
            "conversations-002.json": as_json([conversation("c2")]),
            "export_manifest.json": json.dumps(
                {"files": [f"conversations-00{i}.json" for i in range(3)]}
            ).encode(),
        },
    )
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, path)
    assert (summary.read, summary.new, summary.exit_code) == (2, 2, 3)
    assert summary.errors == [
        "conversations-001.json: listed in export_manifest.json but not in the export"
    ]
    assert "conversations-001.json" in summary.errors[0]


def slimmed(cid):
    """A 2026 slimmed entry: no children keys, no status/recipient/weight, keys sorted,
    non-ASCII escaped; a branch (two answers to one prompt) in file order b1, b2."""
    base = conversation(cid, question="Café?")
    mapping = {}
    for key, node in base["mapping"].items():
        node = {k: v for k, v in node.items() if k != "children"}
        if node.get("message"):
            node["message"] = {
                k: v
                for k, v in node["message"].items()
                if k not in ("status", "recipient", "weight")
            }
        mapping[key] = node
    second = json.loads(json.dumps(mapping[f"{cid}-a"]))
    second["id"] = second["message"]["id"] = f"{cid}-a2"
    mapping[f"{cid}-a2"] = second
    base["mapping"] = mapping
    base["current_node"] = f"{cid}-a2"
    return base


def test_slimmed_nodes_get_their_children_rebuilt_in_file_order():
    conv = slimmed("s1")
    data = json.dumps(conv, sort_keys=True, ensure_ascii=True).encode()
    flat = flatten_entry(data)
    rows = {row["id"]: row for row in flat.messages}
    assert json.loads(rows["s1-root"]["children"]) == ["s1-s"]
    assert json.loads(rows["s1-u"]["children"]) == ["s1-a", "s1-a2"]
    assert json.loads(rows["s1-a2"]["children"]) == []
    assert (rows["s1-a"]["position"], rows["s1-a2"]["position"]) == (0, 1)
    assert rows["s1-a2"]["on_current_branch"] == 1 and rows["s1-a"]["on_current_branch"] == 0
    assert "Caf\\u00e9?" in rows["s1-u"]["raw_json"]  # kept exactly as the file wrote it
    assert rows["s1-u"]["text"] == "Café?"
    # The general path (live backup, reflatten) rebuilds the same tree.
    general = {row["id"]: row for row in flatten_conversation(conv, source="export").messages}
    for key, row in rows.items():
        assert {k: v for k, v in row.items() if k != "raw_json"} == {
            k: v for k, v in general[key].items() if k != "raw_json"
        }
        assert (row["raw_json"] is None) == (general[key]["raw_json"] is None)
