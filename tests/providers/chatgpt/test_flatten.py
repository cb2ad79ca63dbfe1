from __future__ import annotations

import json

import pytest

from archiver.providers.chatgpt.flatten import FlattenError, flatten_conversation
from tests.support.helpers import load_fixture


def by_id(flat):
    return {row["id"]: row for row in flat.messages}


def test_every_branch_is_a_row_and_the_current_branch_is_marked():
    conv = load_fixture("chatgpt/branches.json")
    flat = flatten_conversation(conv, requested_id="ignored-when-conversation-id-present")
    rows = by_id(flat)
    assert set(rows) == {"root", "n-sys", "n-u1", "n-a1", "n-a1b", "n-u2", "n-a2"}
    assert flat.conversation["id"] == "c0ffee00-0000-4000-8000-000000000001"
    assert flat.conversation["node_count"] == 7
    on_branch = {k for k, r in rows.items() if r["on_current_branch"]}
    assert on_branch == {"root", "n-sys", "n-u2", "n-a2"}
    # Regenerated answers are siblings: positions among the parent's children.
    assert (rows["n-a1"]["position"], rows["n-a1b"]["position"]) == (0, 1)
    # Edited prompts are siblings too.
    assert (rows["n-u1"]["position"], rows["n-u2"]["position"]) == (0, 1)
    assert [rows[k]["depth"] for k in ("root", "n-sys", "n-u2", "n-a2")] == [0, 1, 2, 3]


def test_node_id_and_message_id_are_kept_apart():
    rows = by_id(flatten_conversation(load_fixture("chatgpt/branches.json")))
    assert rows["n-a2"]["message_id"] == "m-a2-differs"
    assert rows["n-a2"]["parent_id"] == "n-u2"


def test_root_without_keys_has_null_role_and_text_and_no_raw_message():
    rows = by_id(flatten_conversation(load_fixture("chatgpt/branches.json")))
    root = rows["root"]
    assert (root["role"], root["text"], root["raw_json"], root["parent_id"]) == (
        None,
        None,
        None,
        None,
    )
    assert json.loads(root["children"]) == ["n-sys"]


def test_columns_carry_message_details():
    rows = by_id(flatten_conversation(load_fixture("chatgpt/branches.json")))
    a2 = rows["n-a2"]
    assert a2["role"] == "assistant"
    assert a2["text"] == "Leaves hold all the keys, linked in order."
    assert a2["model_slug"] == "gpt-4o"
    assert a2["status"] == "finished_successfully"
    assert a2["create_time"] == "2023-12-06T02:40:11.000000Z"
    assert rows["n-sys"]["is_hidden"] == 1
    assert rows["n-sys"]["create_time"] is None
    assert json.loads(a2["raw_json"])["metadata"]["resolved_model_slug"] == "gpt-4o-2024"


def test_conversation_row_keeps_raw_json_without_the_mapping():
    conv = load_fixture("chatgpt/branches.json")
    row = flatten_conversation(conv).conversation
    raw = json.loads(row["raw_json"])
    assert "mapping" not in raw
    assert raw["safe_urls"] == [] and raw["current_node"] == "n-a2"
    assert row["provider"] == "chatgpt"
    assert row["create_time"] == "2023-12-06T02:40:00.500000Z"
    assert row["update_time"] == "2023-12-06T02:41:14.616844Z"
    assert row["is_archived"] == 0
    assert row["default_model_slug"] == "gpt-4o"
    assert row["current_node"] == "n-a2"


def test_every_content_type_gets_searchable_text():
    flat = flatten_conversation(load_fixture("chatgpt/content_types.json"))
    text = {r["id"]: r["text"] for r in flat.messages}
    kinds = {r["id"]: r["content_type"] for r in flat.messages}
    assert text["ctx"] == "I am a database engineer.\nAnswer briefly."
    assert text["u"] == (
        "[image: file-service://file-abc123]\ndescribe this chart\n"
        "[audio: sediment://file_voice1]\nand summarise it"
    )
    assert text["img"] == "Reading the chart\nBars rise yearly"
    assert kinds["img"] == "thoughts"
    assert text["code"] == "print(sum([1, 2]))"
    assert text["out"] == "3"
    assert text["quote"] == "Example title\nQuoted passage"
    assert text["browse"] == "search results here\na summary"
    assert text["recap"] == "Thought for 12s"
    assert text["err"] == "Timeout\ntook too long"
    assert text["novel"] == "canvas body"  # unknown type, best effort
    assert text["weird"] is None and kinds["weird"] == "opaque_blob"  # kept whole, no text
    assert json.loads(by_id(flat)["weird"]["raw_json"])["content"]["numbers"] == [1, 2, 3]


def test_tool_messages_keep_author_recipient_and_channel():
    rows = by_id(flatten_conversation(load_fixture("chatgpt/content_types.json")))
    assert (rows["out"]["role"], rows["out"]["author_name"]) == ("tool", "python")
    assert (rows["img"]["recipient"], rows["img"]["channel"]) == ("python", "analysis")


def test_client_created_root_and_dangling_current_node_fall_back_to_newest_leaf():
    flat = flatten_conversation(load_fixture("chatgpt/content_types.json"))
    rows = by_id(flat)
    assert rows["client-created-root"]["role"] is None
    assert flat.conversation["current_node"] == "weird"  # the only leaf
    assert all(r["on_current_branch"] for r in flat.messages)
    assert flat.conversation["title"] is None


def test_attachments_map_asset_pointers_to_their_message():
    flat = flatten_conversation(load_fixture("chatgpt/content_types.json"))
    pointers = {(a["message_node_id"], a["asset_pointer"]): a for a in flat.attachments}
    assert pointers[("u", "file-service://file-abc123")]["size_bytes"] == 1024
    assert pointers[("u", "file-abc123")]["file_name"] == "chart.png"
    assert pointers[("u", "file-abc123")]["mime_type"] == "image/png"
    assert ("u", "sediment://file_voice1") in pointers


def test_broken_tree_keeps_every_node_and_never_crashes():
    conv = load_fixture("chatgpt/broken_tree.json")
    flat = flatten_conversation(conv, requested_id="requested-id")
    rows = by_id(flat)
    assert flat.conversation["id"] == "requested-id"  # no id, no conversation_id
    assert set(rows) == set(conv["mapping"])
    # Missing parent: kept as upstream said, the node becomes a root of its own.
    assert rows["orphan"]["parent_id"] == "ghost-parent"
    assert rows["orphan"]["depth"] == 0
    # current_node missing: the newest leaf wins ("orphan", create_time 9).
    assert flat.conversation["current_node"] == "orphan"
    assert rows["orphan"]["on_current_branch"] == 1
    assert rows["a"]["on_current_branch"] == 0
    # A cycle is cut: both nodes get depths 0 and 1.
    assert sorted([rows["x"]["depth"], rows["y"]["depth"]]) == [0, 1]
    # Nodes that are not even objects are kept whole.
    assert rows["junk"]["raw_json"] == '"not an object"'
    assert rows["untyped"]["role"] is None and rows["untyped"]["text"] == "parts?"


def test_deep_tree_is_walked_iteratively():
    depth = 20_000  # far beyond Python's recursion limit
    mapping = {"n0": {"id": "n0", "children": ["n1"]}}
    for i in range(1, depth):
        mapping[f"n{i}"] = {
            "id": f"n{i}",
            "parent": f"n{i - 1}",
            "children": [f"n{i + 1}"] if i + 1 < depth else [],
            "message": {"id": f"m{i}", "author": {"role": "user"}, "content": {"parts": ["x"]}},
        }
    flat = flatten_conversation({"id": "deep", "mapping": mapping, "current_node": f"n{depth - 1}"})
    assert len(flat.messages) == depth
    assert max(r["depth"] for r in flat.messages) == depth - 1
    assert all(r["on_current_branch"] for r in flat.messages)


@pytest.mark.parametrize("bad", [None, [], "text", 42])
def test_not_a_conversation_is_a_flatten_error(bad):
    with pytest.raises(FlattenError):
        flatten_conversation(bad, requested_id="x")


def test_missing_id_everywhere_is_a_flatten_error():
    with pytest.raises(FlattenError):
        flatten_conversation({"mapping": {}})


def test_the_same_conversation_from_api_and_export_hashes_the_same():
    live = load_fixture("chatgpt/branches.json")
    exported = {**live, "id": live["conversation_id"]}
    assert (
        flatten_conversation(live).conversation["content_hash"]
        == flatten_conversation(exported, source="export").conversation["content_hash"]
    )


def _hash(conv):
    return flatten_conversation(conv).conversation["content_hash"]


def test_the_content_hash_follows_what_is_stored():
    conv = load_fixture("chatgpt/branches.json")
    before = _hash(conv)
    assert _hash(dict(reversed(list(conv.items())))) == before  # field order does not count
    edited = json.loads(json.dumps(conv))
    edited["mapping"]["n-a2"]["message"]["content"]["parts"] = ["changed"]
    assert _hash(edited) != before
    moved = json.loads(json.dumps(conv))
    moved["mapping"]["n-a2"]["parent"] = "n-u1"
    assert _hash(moved) != before
    retitled = {**conv, "title": "another title"}
    assert _hash(retitled) != before
