"""Trees given node by node (parent links, children lists or a plain chain) → rows: roots,
positions, depths, and where the current branch ends when upstream names it and when not."""

from __future__ import annotations

import json

from archiver.flatten.nodetree import Node, NodeChat, chained, flatten_nodes, tree_rows


def node(
    key: str, parent: str | None, time: float | None, children: list[str] | None = None
) -> Node:
    columns = {"text": key, "create_time": None, "raw_json": json.dumps({"k": key})}
    return Node(key, parent, time, columns, children)


def chat(nodes: list[Node], current: str | None = None) -> NodeChat:
    return NodeChat("c", "test", nodes, "t", None, None, {"id": "c"}, 7, current)


def shape(rows: list[dict]) -> dict[str, tuple]:
    return {
        r["id"]: (r["parent_id"], json.loads(r["children"]), r["position"], r["depth"],
                  r["on_current_branch"])
        for r in rows
    }  # fmt: skip


def test_parent_links_make_the_tree_and_the_newest_leaf_ends_the_branch() -> None:
    rows, current = tree_rows(
        chat(
            [
                node("q", None, 1.0),
                node("a2", "q", 5.0),  # regenerated later, listed first
                node("a1", "q", 2.0),
                node("q2", "a1", 3.0),
                node("orphan", "gone", 4.0),
            ]
        )
    )
    assert current == "a2"
    assert shape(rows) == {
        "q": (None, ["a1", "a2"], 0, 0, 1),
        "a2": ("q", [], 1, 1, 1),
        "a1": ("q", ["q2"], 0, 1, 0),
        "q2": ("a1", [], 0, 2, 0),
        "orphan": ("gone", [], 1, 0, 0),  # upstream's word kept; a root nonetheless
    }


def test_a_named_current_node_wins_and_a_bad_one_falls_back() -> None:
    nodes = [node("q", None, 1.0), node("a1", "q", 2.0), node("a2", "q", 3.0)]
    assert tree_rows(chat(nodes, current="a1"))[1] == "a1"
    assert tree_rows(chat(nodes, current="nowhere"))[1] == "a2"


def test_ties_and_unknown_times_pick_the_last_leaf_in_input_order() -> None:
    tied = [node("q", None, 1.0), node("a1", "q", 2.0), node("a2", "q", 2.0)]
    assert tree_rows(chat(tied))[1] == "a2"
    unknown = [node("q", None, None), node("a1", "q", None), node("a2", "q", None)]
    assert tree_rows(chat(unknown))[1] == "a2"


def test_upstream_children_lists_are_kept_as_given() -> None:
    rows, _ = tree_rows(
        chat(
            [
                node("root", None, None, ["2", "1"]),
                node("1", "root", 1.0, []),
                node("2", "root", 2.0, []),
            ]
        )
    )
    assert shape(rows)["root"] == (None, ["2", "1"], 0, 0, 1)
    assert shape(rows)["2"][2] == 0 and shape(rows)["1"][2] == 1


def test_a_flat_history_is_chained_in_time_order() -> None:
    nodes = [
        node("a", None, 2.0),
        node("q", None, 2.0),
        node("late", None, None),
        node("first", None, 1.0),
    ]
    nodes[0].columns["role"], nodes[1].columns["role"] = "assistant", "user"
    ordered = chained(nodes)
    # Unknown times last; on a tie the user's message first.
    assert [(n.key, n.parent) for n in ordered] == [
        ("first", None),
        ("q", "first"),
        ("a", "q"),
        ("late", "a"),
    ]


def test_the_conversation_row() -> None:
    nodes = chained([node(k, None, t) for k, t in (("m1", 1.0), ("m2", 2.0), ("m3", 3.0))])
    for n, t in zip(nodes, ("2026-01-01T00:00:00Z", None, "2026-01-02T00:00:00Z"), strict=True):
        n.columns["create_time"] = t
    flat = flatten_nodes(chat(nodes))
    assert [r["depth"] for r in flat.messages] == [0, 1, 2]
    row = flat.conversation
    assert (row["current_node"], row["node_count"], row["flattener_version"]) == ("m3", 3, 7)
    assert (row["create_time"], row["update_time"]) == (
        "2026-01-01T00:00:00Z",
        "2026-01-02T00:00:00Z",
    )
    assert row["source"] == "export" and json.loads(row["raw_json"]) == {"id": "c"}
    # Upstream's update time stands unless a message is newer.
    later = NodeChat("c", "test", nodes, "t", None, "2026-03-01T00:00:00Z", {"id": "c"}, 7)
    assert flatten_nodes(later).conversation["update_time"] == "2026-03-01T00:00:00Z"
    earlier = NodeChat("c", "test", nodes, "t", None, "2025-12-01T00:00:00Z", {"id": "c"}, 7)
    assert flatten_nodes(earlier).conversation["update_time"] == "2026-01-02T00:00:00Z"
    # The hash moves with a node's raw JSON.
    nodes[1].columns["raw_json"] = json.dumps({"k": "changed"})
    assert flatten_nodes(chat(nodes)).conversation["content_hash"] != row["content_hash"]
