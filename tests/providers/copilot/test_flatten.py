"""Copilot history → rows: one row per message, roles, joined text parts, attachments."""

from __future__ import annotations

import json

import pytest

from archiver.providers.copilot import parse
from archiver.providers.copilot.flatten import (
    CopilotFlattenError,
    flatten_copilot_conversation,
)
from tests.support.helpers import load_fixture


def history() -> dict:
    pages = [
        load_fixture("copilot/history_page1.json")["results"],
        load_fixture("copilot/history_page2.json")["results"],
    ]
    return {"messages": parse.oldest_first(pages), "pages": 2}


ENTRY = load_fixture("copilot/list_page1.json")["results"][0]


def test_one_row_per_message_in_order() -> None:
    flat = flatten_copilot_conversation(ENTRY, history(), list_update_time="x")
    conv = flat.conversation
    assert conv["provider"] == "copilot"
    assert conv["id"] == ENTRY["id"] and conv["title"] == "Shade vegetables"
    assert conv["create_time"] == "2026-11-29T09:00:00.000000Z"  # the first message's
    assert conv["update_time"] == "2026-11-30T10:00:00.000000Z"
    assert conv["node_count"] == 5 and conv["current_node"] == "m4"
    rows = flat.messages
    assert [r["id"] for r in rows] == ["m1", "m2b", "m2", "m3", "m4"]
    assert [r["role"] for r in rows] == ["user", "user", "assistant", "user", "assistant"]
    assert rows[1]["author_name"] == "Ana"
    assert [r["parent_id"] for r in rows] == [None, "m1", "m2b", "m2", "m3"]
    assert json.loads(rows[0]["children"]) == ["m2b"]


def test_text_parts_joined_in_order_and_raw_kept_whole() -> None:
    rows = {r["id"]: r for r in flatten_copilot_conversation(ENTRY, history()).messages}
    answer = rows["m4"]
    assert answer["text"] == (
        "Lettuce and spinach do well in pots.\n\nKeep them out of the midday sun."
    )
    assert answer["model_slug"] == "smart" and answer["status"] == "final"
    raw = json.loads(answer["raw_json"])
    assert [p["type"] for p in raw["content"]] == [
        "chainOfThought",
        "text",
        "citation",
        "text",
        "image",
    ]
    # A message of only side parts (a web search) is kept, hidden from the visible chat.
    assert rows["m2"]["text"] is None and rows["m2"]["is_hidden"] == 1
    assert rows["m2"]["content_type"] == "websearch"
    assert rows["m4"]["is_hidden"] == 0


def test_citations_images_documents_become_attachments() -> None:
    flat = flatten_copilot_conversation(ENTRY, history())
    found = {
        (a["message_node_id"], a["asset_pointer"], a["file_name"], a["mime_type"])
        for a in flat.attachments
    }
    assert found == {
        ("m4", "https://example.org/pots", "Container gardening", None),
        ("m4", "https://images.example.org/pots.png", "pots.png", None),
        ("m3", "att-1", "plan.pdf", "application/pdf"),
    }


def test_variants_and_stability() -> None:
    # A retry of an earlier failure has no list entry; a bare list of messages is accepted.
    flat = flatten_copilot_conversation(None, history()["messages"], requested_id="c9")
    assert flat.conversation["id"] == "c9"
    again = flatten_copilot_conversation(None, history()["messages"], requested_id="c9")
    assert again.conversation["content_hash"] == flat.conversation["content_hash"]
    # Missing and repeated ids: derived, suffixed, stable.
    messages = [
        {"author": {"type": "human"}, "content": [{"type": "text", "text": "hi"}]},
        {"id": "d", "author": {"type": "ai"}, "content": "plain string content"},
        {"id": "d", "author": {"type": "ai"}, "content": {"type": "text", "text": "one part"}},
    ]
    rows = flatten_copilot_conversation({"id": "c"}, {"messages": messages}).messages
    assert rows[0]["id"].startswith("derived-")
    assert [r["id"] for r in rows[1:]] == ["d", "d~2"]
    assert [r["text"] for r in rows] == ["hi", "plain string content", "one part"]
    with pytest.raises(CopilotFlattenError):
        flatten_copilot_conversation({"id": "c"}, "not json")
    with pytest.raises(CopilotFlattenError):
        flatten_copilot_conversation(None, {"messages": []})
