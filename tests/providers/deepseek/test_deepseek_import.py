"""DeepSeek's export, imported from a sample written by hand after the documented shape
(PROTOCOL.md §7.9, chat-stasher's census, DeepSeek2md): every node of every branch lands, the
current branch ends at the newest leaf, reasoning and searches render, files keep their names,
and the file named like ChatGPT's never comes in as ChatGPT's."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from archiver.importer.jsonitems import entries_of_shape
from archiver.importer.source import open_files
from archiver.providers.chatgpt.export.recognise import is_chatgpt_export
from archiver.providers.deepseek.export import SHAPE
from archiver.query.blocks import Note, Sources, Text, Thinking
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
    zip_folder,
)

SAMPLE = Path(__file__).parent / "sample"
CONVERSATIONS = SAMPLE / "conversations.json"
CRYSTAL = "3f6b2c1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"
LISBON = "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d"
EMPTY = "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"
R1 = "deepseek-reasoner"

# The root has no message. Answer 3 regenerated answer 2 after the branch 2-4-5 was written:
# it is the newest leaf, so the current branch is root-1-3, though 5 is deeper.
CRYSTAL_ROWS = [
    ("1", "root", "user", "How much does a 20 ppm crystal drift per day?", 1, R1,
     "2026-06-01T02:00:01.000000Z"),
    ("2", "1", "assistant", "About **1.7 seconds** per day.", 0, R1,
     "2026-06-01T02:00:02.000000Z"),
    ("3", "1", "assistant", "Up to 1.728 s a day, about 52 s a month.", 1, R1,
     "2026-06-01T02:08:30.000000Z"),
    ("4", "2", "user", "And per year?", 0, R1, "2026-06-01T02:01:00.000000Z"),
    ("5", "4", "assistant", "About 10.5 minutes per year.", 0, R1, "2026-06-01T02:01:05.000000Z"),
    ("root", None, None, None, 1, None, None),
]  # fmt: skip
LISBON_ROWS = [
    ("1", "root", "user", "Is this itinerary realistic?", 0, "deepseek-chat",
     "2026-06-20T13:15:01.000000Z"),
    ("2", "1", "assistant", "Mostly: drop Sintra on Sunday.", 0, "deepseek-chat",
     "2026-06-20T13:15:09.000000Z"),
    # An edited first prompt: a sibling under the root, and the newer branch.
    ("3", "root", "user", "Which tram goes to Belém?", 1, "deepseek-chat",
     "2026-06-20T13:18:00.000000Z"),
    ("4", "3", "assistant", "Tram 15E goes to Belém [citation:1].", 1, "deepseek-chat",
     "2026-06-20T13:18:07.000000Z"),
    ("root", None, None, None, 1, None, None),
]  # fmt: skip


@pytest.mark.parametrize("form", ["folder", "zip", "file"])
def test_every_node_of_every_branch_lands(db_path: Path, tmp_path: Path, form: str) -> None:
    export = export_in_form(form, SAMPLE, tmp_path, CONVERSATIONS)
    imported(db_path, export)
    assert messages(db_path, CRYSTAL) == CRYSTAL_ROWS
    assert messages(db_path, LISBON) == LISBON_ROWS
    assert messages(db_path, EMPTY) == [("root", None, None, None, 1, None, None)]
    assert conversations(db_path) == [
        (CRYSTAL, "deepseek", "export", "晶振频率误差", "2026-06-01T02:00:00.100000Z",
         "2026-06-01T02:09:00.000000Z", "3", 6),
        (LISBON, "deepseek", "export", "Lisbon weekend", "2026-06-20T13:15:00.000000Z",
         "2026-06-20T13:20:00.000000Z", "4", 5),
        (EMPTY, "deepseek", "export", "New chat", "2026-06-21T00:00:00.000000Z",
         "2026-06-21T00:00:00.000000Z", "root", 1),
    ]  # fmt: skip


def test_lands_as_deepseek_rows_and_none_as_chatgpt(db_path: Path, tmp_path: Path) -> None:
    """Regression: DeepSeek's conversations.json shares ChatGPT's name and its ``mapping``; it
    once came in as empty ChatGPT conversations with exit 0."""
    export = zip_folder(SAMPLE, tmp_path / "export.zip")
    with open_files(export) as files:
        assert not is_chatgpt_export(files)
    imported(db_path, export)
    assert table(db_path, "SELECT provider, count(*) FROM conversations GROUP BY provider") == [
        ("deepseek", 3)
    ]
    assert table(
        db_path,
        "SELECT count(*) FROM messages WHERE text IS NOT NULL AND conversation_id IN "
        "(SELECT id FROM conversations WHERE provider = 'deepseek')",
    ) == [(9,)]  # 5 + 4 messages; the roots and the empty chat have no text


def test_raw_json_is_kept_whole(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    sample = json.loads(CONVERSATIONS.read_text())
    assert raw_message(db_path, CRYSTAL, "3") == sample[0]["mapping"]["3"]["message"]
    (stored,) = table(db_path, "SELECT raw_json FROM conversations WHERE id = ?", (LISBON,))[0]
    assert json.loads(stored) == {k: v for k, v in sample[1].items() if k != "mapping"}
    kept = dict(table(db_path, "SELECT name, content FROM export_files"))
    assert json.loads(kept["user.json"])["id"] == "u-123"


def test_thinking_search_results_and_files_render(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    assert blocks_of(db_path, "deepseek", CRYSTAL, "2") == [
        Thinking("20 ppm of 86400 seconds is 1.728 seconds.", "Thinking (4.2 s)"),
        Text("About **1.7 seconds** per day."),
    ]
    assert blocks_of(db_path, "deepseek", LISBON, "4") == [
        Text("Tram 15E goes to Belém [citation:1]."),
        Sources((("Tram 15E", "https://example.pt/tram-15"),)),
    ]
    assert blocks_of(db_path, "deepseek", LISBON, "1") == [
        Text("Is this itinerary realistic?"),
        Note("[file: itinerary.pdf (not in the export)]"),
    ]


def test_files_keep_their_names_without_bytes(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    assert table(
        db_path,
        "SELECT conversation_id, message_node_id, asset_pointer, file_name, size_bytes, "
        "download_status FROM attachments",
    ) == [(LISBON, "1", "file-7f3e", "itinerary.pdf", 48213, None)]


def test_a_reimport_adds_nothing(db_path: Path) -> None:
    assert_a_reimport_adds_nothing(db_path, SAMPLE, 3)


def test_reflatten_rebuilds_the_same_rows(db_path: Path) -> None:
    assert_reflatten_keeps_the_rows(db_path, "deepseek", SAMPLE, 3)


def test_a_truncated_file_imports_what_precedes_the_cut(db_path: Path, tmp_path: Path) -> None:
    export = copy_sample(SAMPLE, tmp_path)
    data = (export / "conversations.json").read_bytes()
    (export / "conversations.json").write_bytes(data[: data.index(b'"Lisbon weekend"')])
    result = run_import(db_path, export)
    assert result.exit_code == 3, result.output
    assert "conversations.json: invalid or truncated JSON in conversation #2" in result.output
    assert messages(db_path, CRYSTAL) == CRYSTAL_ROWS
    assert table(db_path, "SELECT id FROM conversations") == [(CRYSTAL,)]


def test_a_chatgpt_export_is_not_claimed(tmp_path: Path) -> None:
    from tests.support.export_helpers import conversation, write_zip

    chatgpt = write_zip(tmp_path / "chatgpt.zip", [conversation("c1")])
    with open_files(chatgpt) as files:
        assert entries_of_shape(files, SHAPE) == []
    with zipfile.ZipFile(tmp_path / "deepseek.zip", "w") as archive:
        archive.writestr("conversations.json", CONVERSATIONS.read_bytes())
    with open_files(tmp_path / "deepseek.zip") as files:
        assert [e.name for e in entries_of_shape(files, SHAPE)] == ["conversations.json"]
