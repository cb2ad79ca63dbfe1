"""Grok's data export, imported from a sample written by hand after the documented shape
(PROTOCOL.md §7.7, chat-stasher's census, nexus-ai-chat-importer's types): every response of
every branch lands, in its tree, with the thinking trace, the asset bytes and the raw JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from archiver.importer.jsonitems import entries_of_shape
from archiver.importer.source import open_files
from archiver.providers.grok.export import SHAPE
from archiver.query.blocks import Code, Note, Sources, Text, Thinking
from archiver.store.filestore import FileStore
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
ACCOUNT = SAMPLE / "ttl/30d/export_data/6b1e2f0a-7c55-4d1e-9a3b-2f9c1d0e8a11"
BACKEND = ACCOUNT / "prod-grok-backend.json"
BOOKS = "0c8a5b9e-1f2d-4e3a-8b7c-6d5e4f3a2b10"
TIDES = "7d2e9f10-3a4b-4c5d-9e8f-0a1b2c3d4e5f"
R = "a1f0c3d4-0000-4000-8000-00000000000"  # + 1..5
T = "b2000000-0000-4000-8000-00000000000"  # + 1..4
MISSING = "b2000000-0000-4000-8000-0000000000ff"
ASSET = "5f1d2c3b-aaaa-4bbb-8ccc-0123456789ab"

# Written from the sample by hand: (id, parent, role, text, on the current branch, model, time).
BOOKS_ROWS = [
    (R + "1", None, "user", "Recommend a book about rivers", 1, "grok-4",
     "2026-01-05T09:00:01.000000Z"),
    (R + "2", R + "1", "assistant", "Try *Rising* by Elizabeth Rush.", 1, "grok-4",
     "2026-01-05T09:00:05.000000Z"),
    # A regenerated answer, newer than the branch shown: leaf_response_id says which is shown.
    (R + "3", R + "1", "assistant", "Another option: *The River* by Peter Heller.", 0, "grok-4",
     "2026-01-05T09:15:00.000000Z"),
    (R + "4", R + "2", "user", "Here is my shelf, what is missing?", 1, None,
     "2026-01-05T09:01:40.000000Z"),
    (R + "5", R + "4", "assistant", 'Your shelf lacks a field guide.\n\nprint("field guide")', 1,
     "grok-4", "2026-01-05T09:01:50.000000Z"),
]  # fmt: skip
TIDES_ROWS = [
    # Both prompts name a parent the export does not hold: each is a root.
    (T + "1", MISSING, "user", "When is high tide in Brest tomorrow?", 0, None,
     "2026-02-10T18:30:00.000000Z"),
    (T + "2", T + "1", "assistant", "High tide in Brest is at 06:12.", 0, "grok-3",
     "2026-02-10T18:30:10.000000Z"),
    (T + "3", MISSING, "user", "When is high tide in Saint-Malo tomorrow?", 1, None,
     "2026-02-10T18:30:50.000000Z"),
    # No leaf_response_id: the newest leaf ends the current branch ($date as an ISO string).
    (T + "4", T + "3", "assistant", "High tide in Saint-Malo is at 07:40.", 1, "grok-3",
     "2026-02-10T18:31:00.000000Z"),
]  # fmt: skip


@pytest.mark.parametrize("form", ["folder", "zip", "file"])
def test_every_response_of_every_branch_lands(db_path: Path, tmp_path: Path, form: str) -> None:
    export = export_in_form(form, SAMPLE, tmp_path, BACKEND)
    imported(db_path, export)
    assert messages(db_path, BOOKS) == BOOKS_ROWS
    assert messages(db_path, TIDES) == TIDES_ROWS
    assert conversations(db_path) == [
        # modify_time, later than every response, is the update time.
        (BOOKS, "grok", "export", "Books about rivers", "2026-01-05T09:00:00.000000Z",
         "2026-01-05T09:20:00.000000Z", R + "5", 5),
        (TIDES, "grok", "export", "Tide tables", "2026-02-10T18:30:00.000000Z",
         "2026-02-10T18:31:00.000000Z", T + "4", 4),
    ]  # fmt: skip
    assert table(db_path, "SELECT count(*) FROM conversations WHERE provider != 'grok'") == [(0,)]


def test_tree_columns_follow_parent_links(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    rows = table(
        db_path,
        "SELECT id, children, position, depth FROM messages WHERE conversation_id = ? ORDER BY id",
        (BOOKS,),
    )
    assert rows == [
        (R + "1", json.dumps([R + "2", R + "3"], separators=(",", ":")), 0, 0),
        (R + "2", json.dumps([R + "4"], separators=(",", ":")), 0, 1),
        (R + "3", "[]", 1, 1),
        (R + "4", json.dumps([R + "5"], separators=(",", ":")), 0, 2),
        (R + "5", "[]", 0, 3),
    ]
    roots = table(
        db_path,
        "SELECT id, depth, position FROM messages WHERE conversation_id = ? AND depth = 0 "
        "ORDER BY id",
        (TIDES,),
    )
    assert roots == [(T + "1", 0, 0), (T + "3", 0, 1)]


def test_raw_json_is_kept_whole(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    sample = json.loads(BACKEND.read_text())
    books = sample["conversations"][0]
    assert raw_message(db_path, BOOKS, R + "2") == books["responses"][1]
    tides = sample["conversations"][1]
    assert raw_message(db_path, TIDES, T + "4")["share_link"] == "https://grok.com/share/abc"
    (stored,) = table(db_path, "SELECT raw_json FROM conversations WHERE id = ?", (BOOKS,))[0]
    assert json.loads(stored) == {"conversation": books["conversation"]}
    # The file's other members and the account's files are kept too.
    kept = dict(table(db_path, "SELECT name, content FROM export_files"))
    prefix = ACCOUNT.relative_to(SAMPLE).as_posix() + "/"
    assert json.loads(kept[prefix + "prod-grok-backend.json (without conversations)"]) == {
        "projects": [],
        "tasks": [],
        "media_posts": [],
    }
    assert set(kept) >= {prefix + "prod-mc-auth-mgmt-api.json", prefix + "prod-mc-billing.json"}
    assert tides["conversation"]["starred"] is True


def test_thinking_citations_and_artifacts_render(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    blocks = blocks_of(db_path, "grok", BOOKS, R + "2")
    assert blocks == [
        Thinking("The user wants a river book. Rush writes about water."),
        Text("Try *Rising* by Elizabeth Rush."),
        Sources(
            (
                ("https://example.org/rising", "https://example.org/rising"),
                ("River reading list", "https://example.org/rivers"),
            )
        ),
    ]
    assert blocks_of(db_path, "grok", BOOKS, R + "5") == [
        Text("Your shelf lacks a field guide."),
        Note("Artifact: list.py"),
        Code('print("field guide")', "py"),
    ]


def test_asset_bytes_go_into_the_file_store(db_path: Path) -> None:
    imported(db_path, SAMPLE)
    content = (ACCOUNT / "prod-mc-asset-server" / ASSET / "content").read_bytes()
    rows = table(
        db_path,
        "SELECT conversation_id, message_node_id, asset_pointer, mime_type, sha256, "
        "download_status FROM attachments",
    )
    digest = hashlib.sha256(content).hexdigest()
    assert rows == [(BOOKS, R + "4", ASSET, "image/png", digest, "stored")]
    assert FileStore.for_database(db_path).path_for(digest).read_bytes() == content


def test_a_reimport_adds_nothing(db_path: Path) -> None:
    assert_a_reimport_adds_nothing(db_path, SAMPLE, 2)


def test_reflatten_rebuilds_the_same_rows(db_path: Path) -> None:
    assert_reflatten_keeps_the_rows(db_path, "grok", SAMPLE, 2)


def test_a_truncated_file_imports_what_precedes_the_cut(db_path: Path, tmp_path: Path) -> None:
    export = copy_sample(SAMPLE, tmp_path)
    backend = export / BACKEND.relative_to(SAMPLE)
    text = backend.read_bytes()
    backend.write_bytes(text[: text.index(b'"Tide tables"')])
    result = run_import(db_path, export)
    assert result.exit_code == 3, result.output
    assert "invalid or truncated JSON in conversation #2" in result.output
    assert "prod-grok-backend.json" in result.output and "Traceback" not in result.output
    assert messages(db_path, BOOKS) == BOOKS_ROWS
    assert table(db_path, "SELECT count(*) FROM conversations") == [(1,)]


def test_an_item_that_is_not_a_conversation_is_named(db_path: Path, tmp_path: Path) -> None:
    sample = json.loads(BACKEND.read_text())
    sample["conversations"].insert(1, {"conversation": {"title": "no id"}, "responses": []})
    path = tmp_path / "prod-grok-backend.json"
    path.write_text(json.dumps(sample))
    result = run_import(db_path, path)
    assert result.exit_code == 3, result.output
    assert "prod-grok-backend.json conversation #2: the conversation has no id" in result.output
    assert table(db_path, "SELECT count(*) FROM conversations") == [(2,)]


def test_detection_is_by_shape(tmp_path: Path) -> None:
    renamed = tmp_path / "export.json"
    renamed.write_bytes(BACKEND.read_bytes())
    empty = tmp_path / "empty.json"
    empty.write_text('{"conversations": [], "projects": [], "tasks": [], "media_posts": []}')
    other = tmp_path / "other.json"
    other.write_text('{"conversations": [{"id": "c1", "messages": []}]}')
    for path, claimed in ((renamed, True), (empty, True), (other, False)):
        with open_files(path) as files:
            assert bool(entries_of_shape(files, SHAPE)) is claimed, path.name


def test_a_2025_export_without_parent_links_is_one_thread(db_path: Path) -> None:
    """Exports of mid-2025 (a public parser's documented sample) carry no parent_response_id,
    no leaf_response_id and no tasks or media_posts: the responses are one thread in time
    order, all of it the current branch."""
    sample = Path(__file__).parent / "sample-2025"
    imported(db_path, sample)
    cid, c = "4e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "c{0}000000-0000-4000-8000-00000000000{0}"
    assert messages(db_path, cid) == [
        (c.format(1), None, "user", "What does dependency preservation mean?", 1, None,
         "2025-06-10T11:29:49.923000Z"),
        (c.format(2), c.format(1), "assistant",
         "Every functional dependency can still be checked on the decomposed tables.", 1,
         "grok-2", "2025-06-10T11:29:51.234000Z"),
        (c.format(3), c.format(2), "user", "And what breaks if it is not preserved?", 1, None,
         "2025-06-10T11:29:52.567000Z"),
        (c.format(4), c.format(3), "assistant", "Updates must then join tables to stay consistent.",
         1, "grok-2", "2025-06-10T11:29:53.890000Z"),
    ]  # fmt: skip
    assert conversations(db_path) == [
        (cid, "grok", "export", "Normal forms", "2025-06-10T11:29:49.867890Z",
         "2025-06-10T11:31:52.197192Z", c.format(4), 4),
    ]  # fmt: skip
    assert_reflatten_keeps_the_rows(db_path, "grok", sample, 1)
