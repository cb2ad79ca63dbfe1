"""Property tests: the flattener on arbitrary, broken mappings never raises and never drops a
node, and the tree it reports is self-consistent."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.flatten_raw import flatten_entry

node_ids = st.sampled_from([f"n{i}" for i in range(12)] + ["client-created-root", "ghost"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5))
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
content = st.one_of(
    junk,
    st.fixed_dictionaries(
        {"content_type": st.sampled_from(["text", "multimodal_text", "code", "thoughts", "?"])},
        optional={
            "parts": st.lists(st.one_of(st.text(max_size=5), junk), max_size=3),
            "text": junk,
        },
    ),
)
message = st.one_of(
    st.none(),
    junk,
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(st.text(max_size=4), junk),
            "author": st.one_of(
                junk,
                st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool"])}),
            ),
            "content": content,
            "create_time": st.one_of(st.none(), st.floats(), st.integers(), st.text(max_size=8)),
            "metadata": junk,
        },
    ),
)
node = st.one_of(
    junk,
    st.fixed_dictionaries(
        {},
        optional={
            "parent": st.one_of(node_ids, junk),
            "children": st.one_of(st.lists(node_ids, max_size=4), junk),
            "message": message,
        },
    ),
)
mappings = st.dictionaries(node_ids, node, max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mapping=mappings, current=st.one_of(st.none(), node_ids, junk))
def test_flattener_never_raises_and_never_drops_a_node(mapping, current):
    flat = flatten_conversation({"mapping": mapping, "current_node": current}, requested_id="c")
    rows = {row["id"]: row for row in flat.messages}
    assert set(rows) == set(mapping)
    assert flat.conversation["node_count"] == len(mapping)
    for row in flat.messages:
        assert isinstance(row["depth"], int) and row["depth"] >= 0
        assert isinstance(row["position"], int) and row["position"] >= 0
        assert row["on_current_branch"] in (0, 1)
        assert row["text"] is None or isinstance(row["text"], str)
    # The current branch is a chain from one root: exactly one node at each depth.
    branch_depths = sorted(r["depth"] for r in flat.messages if r["on_current_branch"])
    assert branch_depths == list(range(len(branch_depths)))
    if mapping:
        assert flat.conversation["current_node"] in rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mapping=st.one_of(mappings, junk),
    current=st.one_of(st.none(), node_ids, junk),
    title=junk,
)
def test_the_export_fast_path_gives_the_rows_of_the_general_path(mapping, current, title):
    """flatten_entry (msgspec, message JSON sliced from the input) and flatten_conversation
    (json, re-encoded) agree on every row, hash included, for compact input."""
    conv = {"id": "c", "title": title, "mapping": mapping, "current_node": current}
    data = json.dumps(conv, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )
    general = flatten_conversation(json.loads(data), source="export")
    fast = flatten_entry(data)
    assert fast.conversation == general.conversation
    assert fast.messages == general.messages
    assert fast.attachments == general.attachments
