"""Bing history → rows: a linear chain, side messages hidden, signatures never stored."""

from __future__ import annotations

import json

import pytest

from archiver.flatten.records import CONVERSATION_COLUMNS, MESSAGE_COLUMNS
from archiver.providers.bing.flatten import (
    BingFlattenError,
    adaptive_card_text,
    drop_signatures,
    flatten_bing_conversation,
)
from tests.support.helpers import load_fixture


def chat(index: int) -> dict:
    return load_fixture("bing/chats.json")["chats"][index]


def flat_chat1():
    return flatten_bing_conversation(
        chat(0),
        load_fixture("bing/conversation_chat1.json"),
        list_update_time="2023-05-18T09:03:20.000000Z",
    )


def test_rows_have_every_column() -> None:
    flat = flat_chat1()
    assert set(flat.conversation) == set(CONVERSATION_COLUMNS)
    for row in flat.messages:
        assert set(row) == set(MESSAGE_COLUMNS)


def test_linear_chain_in_list_order() -> None:
    rows = flat_chat1().messages
    ids = [row["id"] for row in rows]
    assert ids == [
        "m-user-1",
        "m-search-1",
        "m-loader-1",
        "m-bot-1",
        "m-user-2",
        "m-bot-2",
        "m-sugg-2",
    ]
    assert [row["parent_id"] for row in rows] == [None, *ids[:-1]]
    assert [row["depth"] for row in rows] == list(range(len(rows)))
    assert {row["position"] for row in rows} == {0}
    assert {row["on_current_branch"] for row in rows} == {1}
    assert json.loads(rows[0]["children"]) == ["m-search-1"]
    assert json.loads(rows[-1]["children"]) == []


def test_roles_authors_and_content_types() -> None:
    rows = {row["id"]: row for row in flat_chat1().messages}
    assert rows["m-user-1"]["role"] == "user"
    assert rows["m-user-1"]["author_name"] == "Ada"
    assert rows["m-bot-2"]["role"] == "assistant"
    assert rows["m-bot-2"]["content_type"] == "text"
    assert rows["m-search-1"]["content_type"] == "InternalSearchQuery"


def test_internal_messages_hidden_so_the_chat_stands_out() -> None:
    visible = [row["id"] for row in flat_chat1().messages if not row["is_hidden"]]
    assert visible == ["m-user-1", "m-bot-1", "m-user-2", "m-bot-2"]


def test_bot_message_with_empty_text_takes_the_adaptive_card_text() -> None:
    rows = {row["id"]: row for row in flat_chat1().messages}
    assert rows["m-bot-1"]["text"] == (
        "A lifetime names how long a reference is valid.\n\nLearn more: 1. doc.rust-lang.org"
    )
    assert rows["m-loader-1"]["text"] == ""  # no card: the empty text stays as received


def test_source_attributions_and_suggested_responses_kept_in_raw() -> None:
    rows = {row["id"]: row for row in flat_chat1().messages}
    raw = json.loads(rows["m-bot-1"]["raw_json"])
    assert raw["sourceAttributions"][0]["seeMoreUrl"].startswith("https://doc.rust-lang.org/")
    assert raw["suggestedResponses"][0]["text"] == "Show me an example"


def test_times_iso_from_strings_seconds_and_milliseconds() -> None:
    flat = flat_chat1()
    assert flat.conversation["create_time"] == "2023-05-18T08:53:20.000000Z"  # ms
    assert flat.messages[0]["create_time"] == "2023-05-18T09:33:20.123000Z"  # createdAt wins
    flat2 = flatten_bing_conversation(chat(1), load_fixture("bing/conversation_chat2.json"))
    assert flat2.conversation["update_time"] == "2023-05-17T05:11:40.000000Z"  # seconds
    assert flat2.messages[0]["create_time"] == "2023-05-17T05:06:50.000000Z"  # timestamp (s)
    assert flat2.messages[1]["create_time"] == "2023-05-17T05:07:00.000000Z"  # timestamp (ms)


def test_missing_and_duplicate_message_ids_get_stable_unique_ids() -> None:
    history = load_fixture("bing/conversation_chat2.json")
    rows = flatten_bing_conversation(chat(1), history).messages
    ids = [row["id"] for row in rows]
    assert ids[0].startswith("derived-") and rows[0]["message_id"] is None
    assert ids[1:] == ["m-dup", "m-dup~2"]
    assert rows[2]["message_id"] == "m-dup"
    again = flatten_bing_conversation(chat(1), load_fixture("bing/conversation_chat2.json"))
    assert [row["id"] for row in again.messages] == ids
    assert rows[2]["is_hidden"] == 1 and rows[2]["content_type"] == "Disengaged"


def test_conversation_row() -> None:
    conv = flat_chat1().conversation
    assert conv["id"] == "51D|BingProd|CHAT0001"
    assert conv["provider"] == "bing"
    assert conv["title"] == "Rust lifetimes"
    assert conv["current_node"] == "m-sugg-2"
    assert conv["node_count"] == 7
    assert conv["source"] == "api"
    assert conv["list_update_time"] == "2023-05-18T09:03:20.000000Z"
    raw = json.loads(conv["raw_json"])
    assert raw["chat"]["tone"] == "Precise"
    assert raw["conversation"]["throttling"]["maxNumUserMessagesInConversation"] == 20
    assert "messages" not in raw["conversation"]


def test_title_falls_back_to_default_chat_name() -> None:
    entry = {k: v for k, v in chat(1).items() if k != "chatName"}
    flat = flatten_bing_conversation(entry, load_fixture("bing/conversation_chat2.json"))
    assert flat.conversation["title"] == "Lisbon weekend"


def test_signatures_are_never_stored() -> None:
    history = load_fixture("bing/conversation_chat1.json")
    history["conversationSignature"] = "sig-in-answer"
    history["encryptedConversationSignature"] = "enc-in-answer"
    flat = flatten_bing_conversation(chat(0), history)
    stored = flat.conversation["raw_json"] + "".join(row["raw_json"] for row in flat.messages)
    for secret in ("sig-chat-1", "sig-in-answer", "enc-in-answer"):
        assert secret not in stored


def test_reissued_signatures_do_not_change_the_content_hash() -> None:
    one = flatten_bing_conversation(chat(0), load_fixture("bing/conversation_chat1.json"))
    entry = dict(chat(0), conversationSignature="another-signature")
    two = flatten_bing_conversation(entry, load_fixture("bing/conversation_chat1.json"))
    assert one.conversation["content_hash"] == two.conversation["content_hash"]


def test_without_list_entry_uses_the_answer_and_the_requested_id() -> None:
    history = load_fixture("bing/conversation_chat2.json")
    del history["conversationId"]
    flat = flatten_bing_conversation({}, history, requested_id="C-req")
    assert flat.conversation["id"] == "C-req"
    assert flat.conversation["create_time"] == "2023-05-17T05:06:50.000000Z"  # first message
    assert flat.conversation["update_time"] == "2023-05-17T05:07:10.000000Z"  # last message


def test_empty_history() -> None:
    flat = flatten_bing_conversation(chat(0), {"messages": []})
    assert flat.messages == [] and flat.conversation["current_node"] is None


def test_not_a_conversation() -> None:
    with pytest.raises(BingFlattenError):
        flatten_bing_conversation(chat(0), ["not", "an", "object"])
    with pytest.raises(BingFlattenError):
        flatten_bing_conversation({}, {"messages": []})


def test_adaptive_card_walk_handles_nesting_and_junk() -> None:
    message = {
        "adaptiveCards": [
            {"body": [{"type": "ColumnSet", "columns": [{"items": [{"type": "TextBlock"}]}]}]},
            "junk",
            {"body": [{"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "deep"}]}]},
        ]
    }
    assert adaptive_card_text(message) == "deep"
    assert adaptive_card_text({}) == ""


def test_drop_signatures_is_recursive() -> None:
    value = {"a": [{"conversationSignature": "x", "keep": 1}], "EncryptedSignature": "y"}
    assert drop_signatures(value) == {"a": [{"keep": 1}]}
