"""The deterministic generator: same seed, same data; every rare shape appears in a small set."""

from __future__ import annotations

from archiver.fakes.state import EmulatorState
from archiver.providers.bing.fake.generate import chat_messages
from archiver.providers.chatgpt.fake import generate as chatgpt_data
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from tests.support.fakes import fake_config


def _messages(conv: dict) -> list[dict]:
    return [n["message"] for n in conv["mapping"].values() if n.get("message")]


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert chatgpt_data.conversation(3, seed=7) == chatgpt_data.conversation(3, seed=7)
    assert chatgpt_data.summary(3, seed=7) == chatgpt_data.summary(3, seed=7)
    assert chatgpt_data.conversation(3, seed=7) != chatgpt_data.conversation(3, seed=8)
    assert chat_messages(2, seed=7) == chat_messages(2, seed=7)


def test_every_content_type_and_part_type_appears() -> None:
    types: set[str] = set()
    for i in range(40):
        for m in _messages(chatgpt_data.conversation(i, seed=0)):
            types.add(m["content"]["content_type"])
            for part in m["content"].get("parts") or []:
                if isinstance(part, dict):
                    types.add(part["content_type"])
    expected = {
        "text",
        "tether_quote",
        "code",
        "multimodal_text",
        "image_asset_pointer",
        "audio_transcription",
        "tether_browsing_display",
        "user_editable_context",
        "thoughts",
        "reasoning_recap",
        "execution_output",
        "system_error",
        "x_emulator_future_widget",
    }
    assert expected <= types


def test_root_variants_branches_and_hidden_nodes() -> None:
    roots, features = set(), set()
    for i in range(40):
        conv = chatgpt_data.conversation(i, seed=0)
        mapping = conv["mapping"]
        root = next(n for n in mapping.values() if n.get("message") is None)
        if root["id"] == "client-created-root":
            roots.add("client-created-root")
        else:
            roots.add("nulls" if "parent" in root else "bare")
        first = mapping[root["children"][0]]["message"]
        assert first["author"]["role"] == "system"
        assert first["metadata"]["is_visually_hidden_from_conversation"] is True
        for node in mapping.values():
            msg = node.get("message")
            if msg and node["id"] != msg["id"]:
                features.add("split-ids")
            if msg and msg["create_time"] is None:
                features.add("null-time")
            if msg and msg.get("metadata", {}).get("attachments"):
                features.add("attachments")
            if msg and msg["author"]["role"] == "tool" and msg["author"]["name"]:
                features.add("tool-name")
            kids = [mapping[c]["message"]["author"]["role"] for c in node["children"]]
            if kids.count("user") > 1:
                features.add("edit")
            if kids.count("assistant") > 1:
                features.add("regenerate")
            stopped = msg and msg["metadata"].get("finish_details", {}).get("type") == "max_tokens"
            if stopped and msg["author"]["role"] == "assistant" and "assistant" in kids:
                features.add("continue")
        assert conv["current_node"] in mapping
        if conv["title"] is None:
            features.add("null-title")
    assert roots == {"bare", "nulls", "client-created-root"}
    wanted = {
        "split-ids",
        "null-time",
        "attachments",
        "tool-name",
        "edit",
        "regenerate",
        "continue",
    }
    assert wanted | {"null-title"} <= features


def test_mean_nodes_knob_and_export_format() -> None:
    small = [len(chatgpt_data.conversation(i, seed=0)["mapping"]) for i in range(30)]
    big = [len(chatgpt_data.conversation(i, seed=0, mean_nodes=72)["mapping"]) for i in range(30)]
    assert 8 <= sum(small) / 30 <= 20
    assert 55 <= sum(big) / 30 <= 95
    exported = chatgpt_data.export_conversation(4, seed=0)
    assert exported["id"] == exported["conversation_id"] == chatgpt_data.summary(4, seed=0).id
    assert "id" not in chatgpt_data.conversation(4, seed=0)


def test_thousands_of_conversations_start_lazily() -> None:
    world = chatgpt_world(EmulatorState(fake_config(chatgpt_conversations=2000)))
    assert len(world.records) == 2000
    assert world.built() == 0  # no tree is built until a client asks for it
    archived = sum(r.is_archived for r in world.records.values())
    assert 150 <= archived <= 250  # about 10%


def test_bing_history_has_side_messages_and_card_only_answers() -> None:
    kinds, card_only, attributed = set(), 0, 0
    for i in range(10):
        for m in chat_messages(i, seed=0):
            kinds.add(m.get("messageType"))
            if m["author"] == "bot" and "messageType" not in m and m["text"] == "":
                assert m["adaptiveCards"][0]["body"][0]["text"]
                card_only += 1
            attributed += bool(m.get("sourceAttributions"))
    assert {"InternalSearchQuery", "InternalSearchResult", "InternalLoaderMessage"} <= kinds
    assert card_only and attributed
