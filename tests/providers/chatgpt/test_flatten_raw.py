"""The export fast path (flatten_raw) against the general flattener on realistic data: the
emulator's generated conversations (every content type, branches, tools, model slugs)."""

from __future__ import annotations

import json

from archiver.providers.chatgpt.fake.generate import export_conversations
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.flatten_raw import flatten_entry


def test_same_rows_as_the_general_flattener_and_raw_json_is_the_input_text():
    for conv in export_conversations(60, seed=3, mean_nodes=20):
        data = json.dumps(conv, ensure_ascii=False, separators=(",", ":")).encode()
        fast, general = flatten_entry(data), flatten_conversation(conv, source="export")
        assert fast.conversation == general.conversation
        assert fast.messages == general.messages
        assert fast.attachments == general.attachments
        for row in fast.messages:
            node = conv["mapping"][row["id"]]
            if node.get("message") is not None:
                assert json.loads(row["raw_json"]) == node["message"]


def test_spaced_and_escaped_input_keeps_its_own_text():
    conv = next(iter(export_conversations(1, seed=5)))
    data = json.dumps(conv, indent=2, ensure_ascii=True).encode()
    fast, general = flatten_entry(data), flatten_conversation(conv, source="export")
    strip = ("raw_json",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in fast.messages] == [
        {k: v for k, v in r.items() if k not in strip} for r in general.messages
    ]
    for row in fast.messages:
        if row["raw_json"] is not None:
            assert row["raw_json"] in data.decode()  # a slice of the input, spaces included
