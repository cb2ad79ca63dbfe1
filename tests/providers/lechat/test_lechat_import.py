"""Le Chat's export, imported from a sample written by hand after the documented shape
(PROTOCOL.md §7.8, nexus-ai-chat-importer's Le Chat types): one chat per file, its records put
in time order, reasoning kept as thinking, the chat's files stored, the raw JSON kept."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from archiver.importer.jsonitems import entries_of_shape
from archiver.importer.source import open_files
from archiver.providers.lechat.export import SHAPE
from archiver.query.blocks import Note, Text, Thinking
from tests.providers.export_checks import (
    assert_a_reimport_adds_nothing,
    assert_reflatten_keeps_the_rows,
    blocks_of,
    conversations,
    copy_sample,
    export_in_form,
    imported,
    messages,
    raw_message,
    run_import,
    table,
)

SAMPLE = Path(__file__).parent / "sample"
GARDEN = "5c1f0e2d-8b7a-4c6d-9e5f-4a3b2c1d0e9f"
BRETON = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
G = "a{0}a{0}a{0}a{0}-0000-4000-8000-00000000000{0}"
B = "b{0}b{0}b{0}b{0}-0000-4000-8000-00000000000{0}"

# In time order (the file has them shuffled), each the child of the one before.
GARDEN_ROWS = [
    (G.format(1), None, "user",
     "Which vegetables grow well in shade?\nI have a north-facing balcony.", 1, None,
     "2026-03-14T08:00:02.001000Z"),
    (G.format(2), G.format(1), "assistant", "Lettuce, spinach and chard all grow in shade.", 1,
     None, "2026-03-14T08:00:03.512000Z"),
    (G.format(3), G.format(2), "user", "Here are my pots.", 1, None,
     "2026-03-14T08:05:09.000000Z"),
    (G.format(4), G.format(3), "assistant", "The pots look deep enough for chard.", 1, None,
     "2026-03-14T08:05:11.000000Z"),
]  # fmt: skip
BRETON_ROWS = [
    (B.format(1), None, "user", "Translate 'good evening' into Breton.", 1, None,
     "2026-04-02T19:30:00.000000Z"),
    (B.format(2), B.format(1), "assistant",
     "*Noz vat* is goodnight; good evening is *Abardaez mat*.", 1, None,
     "2026-04-02T19:30:00.850000Z"),
]  # fmt: skip


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_every_message_lands_in_time_order(db_path: Path, tmp_path: Path, form: str) -> None:
    export = export_in_form(form, SAMPLE, tmp_path)
    imported(db_path, export)
    assert messages(db_path, GARDEN) == GARDEN_ROWS
    assert messages(db_path, BRETON) == BRETON_ROWS
    assert conversations(db_path) == [
        (GARDEN, "lechat", "export", "Which vegetables grow well in shade?",
         "2026-03-14T08:00:02.001000Z", "2026-03-14T08:05:11.000000Z", G.format(4), 4),
        (BRETON, "lechat", "export", "Translate 'good evening' into Breton.",
         "2026-04-02T19:30:00.000000Z", "2026-04-02T19:30:00.850000Z", B.format(2), 2),
    ]  # fmt: skip


def test_one_chat_file_alone(db_path: Path) -> None:
    imported(db_path, SAMPLE / f"chat-{BRETON}.json")
    assert messages(db_path, BRETON) == BRETON_ROWS


def test_raw_json_is_kept_whole(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    records = json.loads((SAMPLE / f"chat-{GARDEN}.json").read_text())
    for record in records:
        assert raw_message(db_path, GARDEN, record["id"]) == record


def test_reasoning_is_thinking_and_tool_calls_are_notes(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    assert blocks_of(db_path, "lechat", GARDEN, G.format(2)) == [
        Thinking("The user asks about shade. Leafy greens tolerate it."),
        Note("[tool call: web_search]"),
        Text("Lettuce, spinach and chard all grow in shade."),
    ]
    # The searchable text is the answer alone.
    assert table(db_path, "SELECT text FROM messages WHERE id = ?", (G.format(2),)) == [
        ("Lettuce, spinach and chard all grow in shade.",)
    ]


def test_the_chat_files_go_into_the_file_store(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    folder = SAMPLE / f"chat-{GARDEN}-files"
    rows = table(
        db_path,
        "SELECT message_node_id, asset_pointer, sha256, download_status FROM attachments "
        "ORDER BY asset_pointer",
    )
    digest = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in
              ("notes.txt", "pots.png")}  # fmt: skip
    assert rows == [
        # No message names notes.txt: it goes with the chat's last message.
        (G.format(4), f"chat-{GARDEN}-files/notes.txt", digest["notes.txt"], "stored"),
        (G.format(3), f"chat-{GARDEN}-files/pots.png", digest["pots.png"], "stored"),
    ]


def test_a_reimport_adds_nothing(db_path: Path) -> None:
    assert_a_reimport_adds_nothing(db_path, SAMPLE, 2)


def test_reflatten_rebuilds_the_same_rows(db_path: Path) -> None:
    assert_reflatten_keeps_the_rows(db_path, "lechat", SAMPLE, 2)


def test_a_truncated_chat_is_named_and_the_others_import(db_path: Path, tmp_path: Path) -> None:
    export = copy_sample(SAMPLE, tmp_path)
    chat = export / f"chat-{GARDEN}.json"
    chat.write_bytes(chat.read_bytes()[:-40])
    result = run_import(db_path, export)
    assert result.exit_code == 3, result.output
    assert f"chat-{GARDEN}.json: invalid or truncated JSON" in result.output
    assert messages(db_path, BRETON) == BRETON_ROWS
    assert table(db_path, "SELECT id FROM conversations") == [(BRETON,)]


def test_detection_is_by_shape(tmp_path: Path) -> None:
    renamed = tmp_path / "chat.json"
    renamed.write_bytes((SAMPLE / f"chat-{BRETON}.json").read_bytes())
    other = tmp_path / f"chat-{BRETON}.json"
    other.write_text('[{"chatId": "x", "role": "user", "text": "no createdAt"}]')
    for path, claimed in ((renamed, True), (other, False)):
        with open_files(path) as files:
            assert bool(entries_of_shape(files, SHAPE)) is claimed, path.name


def test_same_named_files_of_two_chats_stay_apart(db_path: Path, tmp_path: Path) -> None:
    export = copy_sample(SAMPLE, tmp_path)
    chat = export / f"chat-{BRETON}.json"
    records = json.loads(chat.read_text())
    records[0]["files"] = [{"type": "image", "name": "pots.png"}]
    chat.write_text(json.dumps(records))
    (export / f"chat-{BRETON}-files").mkdir()
    (export / f"chat-{BRETON}-files" / "pots.png").write_bytes(b"\x89PNG\r\n\x1a\nother pots")
    imported(db_path, export)
    stored = dict(
        table(
            db_path,
            "SELECT conversation_id, sha256 FROM attachments WHERE asset_pointer LIKE '%pots.png'",
        )
    )
    for chat_id in (GARDEN, BRETON):
        data = (export / f"chat-{chat_id}-files" / "pots.png").read_bytes()
        assert stored[chat_id] == hashlib.sha256(data).hexdigest()
