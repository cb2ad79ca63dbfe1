from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.providers.chatgpt.export.run import import_export
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store import open_db
from archiver.store.save import save_conversation
from tests.support.export_helpers import as_json, conversation, write_zip


@pytest.fixture
def db(tmp_path):
    return open_db(tmp_path / "archive.db")


def answers(db):
    return dict(
        db.execute(
            "SELECT conversation_id, text FROM messages WHERE role = 'assistant' ORDER BY 1"
        ).fetchall()
    )


def test_import_zip_fills_the_archive(db, tmp_path):
    path = write_zip(tmp_path / "export.zip", [conversation("c1"), conversation("c2")])
    summary = import_export(db, path)
    assert summary.counts() | {"messages": summary.messages} == {
        "read": 2,
        "new": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped_older": 0,
        "failed": 0,
        "duplicates": 0,
        "messages": 8,
        "attachments": 0,
        "files_stored": 0,
        "extracted": 0,
        "json_files": 1,
        "shared_links": 0,
        "textdocs": 0,
        "feedback": 0,
    }
    assert summary.exit_code == 0
    rows = db.execute("SELECT id, source, node_count FROM conversations ORDER BY id").fetchall()
    assert rows == [("c1", "export", 4), ("c2", "export", 4)]
    hits = db.execute(
        "SELECT m.conversation_id FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
        "WHERE messages_fts MATCH 'balanced'"
    ).fetchall()
    assert sorted(hits) == [("c1",), ("c2",)]


def test_reimport_changes_nothing(db, tmp_path):
    path = write_zip(tmp_path / "export.zip", [conversation("c1"), conversation("c2")], split=1)
    import_export(db, path)
    before = db.conn.total_changes
    summary = import_export(db, path)
    assert (summary.read, summary.unchanged, summary.new, summary.updated) == (2, 2, 0, 0)
    assert db.conn.total_changes == before


def test_newer_export_updates_older_never_overwrites(db, tmp_path):
    newer = write_zip(
        tmp_path / "new.zip", [conversation("c1", update_time=1701900000.0, answer="Newer answer.")]
    )
    older = write_zip(
        tmp_path / "old.zip", [conversation("c1", update_time=1701800000.0, answer="Older answer.")]
    )
    assert import_export(db, newer).new == 1
    summary = import_export(db, older)
    assert summary.skipped_older == 1 and summary.exit_code == 0
    assert answers(db) == {"c1": "Newer answer."}
    # And the other way round: a later export updates.
    newest = write_zip(
        tmp_path / "newest.zip", [conversation("c1", update_time=1702000000.0, answer="Newest.")]
    )
    assert import_export(db, newest).updated == 1
    assert answers(db) == {"c1": "Newest."}


def test_live_then_export_is_one_conversation(db, tmp_path):
    live = conversation("c1")
    del live["id"]  # the backend-api detail response has only conversation_id
    save_conversation(db, flatten_conversation(live))
    path = tmp_path / "conversations.json"
    path.write_bytes(as_json([conversation("c1")]))
    summary = import_export(db, path)
    assert summary.read == 1 and summary.failed == 0
    assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 4


def test_malformed_conversations_are_named_and_the_rest_imports(db, tmp_path):
    entries = [conversation("c1"), 42, {"title": "no id at all"}, conversation("c2")]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(entries))
    summary = import_export(db, path)
    assert (summary.read, summary.new, summary.failed) == (4, 2, 2)
    assert summary.errors[0].startswith("conversations.json #2: not a usable conversation")
    assert summary.errors[1].startswith("conversations.json #3: not a usable conversation")
    assert summary.exit_code == 3


def test_truncated_file_keeps_earlier_conversations(db, tmp_path):
    data = as_json([conversation("c1"), conversation("c2"), conversation("c3")])
    path = write_zip(
        tmp_path / "export.zip",
        files={
            "conversations-000.json": data[:-300],
            "conversations-001.json": as_json([conversation("c9")]),
        },
    )
    summary = import_export(db, path)
    assert sorted(answers(db)) == ["c1", "c2", "c9"]
    assert len(summary.errors) == 1 and "conversations-000.json" in summary.errors[0]
    assert summary.exit_code == 3


def test_nothing_readable_is_exit_2(db, tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text("[{]")
    summary = import_export(db, path)
    assert summary.read == 0 and summary.exit_code == 2


def test_attachments_are_mapped_and_extracted(db, tmp_path):
    convs = [
        conversation("c1", image_pointer="file-service://file-Img1", attachment_id="file-Doc2"),
        conversation("c2", image_pointer="sediment://file_00ab"),
        conversation("c3", image_pointer="file-service://file-Dal3"),
    ]
    files = {
        "file-Img1-photo.png": b"png!",
        "file-Doc2-notes.txt": b"text",
        "file_00ab-scan.jpg": b"jpeg",
        "dalle-generations/file-Dal3-0a1b.webp": b"webp",
    }
    path = write_zip(tmp_path / "export.zip", convs, files=files)
    dest = tmp_path / "files"
    summary = import_export(db, path, extract_dir=dest)
    assert (summary.attachments, summary.extracted, summary.exit_code) == (4, 4, 0)
    rows = db.execute(
        "SELECT conversation_id, message_node_id, asset_pointer, file_name, extracted_path "
        "FROM attachments ORDER BY 1, 3"
    ).fetchall()
    assert [r[:4] for r in rows] == [
        ("c1", "c1-u", "file-Doc2", "file-Doc2-notes.txt"),
        ("c1", "c1-u", "file-service://file-Img1", "file-Img1-photo.png"),
        ("c2", "c2-u", "sediment://file_00ab", "file_00ab-scan.jpg"),
        ("c3", "c3-u", "file-service://file-Dal3", "dalle-generations/file-Dal3-0a1b.webp"),
    ]
    for row in rows:
        assert Path(row[4]).read_bytes() == files[row[3]]


def test_files_are_mapped_on_a_later_import_of_unchanged_conversations(db, tmp_path):
    conv = conversation("c1", image_pointer="file-service://file-Img1")
    bare = tmp_path / "conversations.json"
    bare.write_bytes(as_json([conv]))
    import_export(db, bare)
    assert db.execute("SELECT file_name FROM attachments").fetchone() == (None,)
    path = write_zip(tmp_path / "export.zip", [conv], files={"file-Img1-a.png": b"x"})
    summary = import_export(db, path, extract_dir=tmp_path / "files")
    assert summary.unchanged == 1 and summary.extracted == 1
    name, extracted = db.execute("SELECT file_name, extracted_path FROM attachments").fetchone()
    assert name == "file-Img1-a.png" and extracted.endswith("file-Img1-a.png")


def test_zip_slip_members_are_refused(db, tmp_path):
    convs = [
        conversation("c1", image_pointer="file-service://file-Up1"),
        conversation("c2", image_pointer="file-service://file-Abs2"),
        conversation("c3", image_pointer="file-service://file-Link3"),
    ]
    path = write_zip(
        tmp_path / "export.zip",
        convs,
        raw_members={"../file-Up1-evil.png": b"evil", "/file-Abs2-evil.png": b"evil"},
        symlinks={"file-Link3-evil.png": "/etc/passwd"},
    )
    dest = tmp_path / "sub" / "files"
    summary = import_export(db, path, extract_dir=dest)
    assert summary.read == 3 and summary.new == 3 and summary.extracted == 0
    # Members never touched at all: not matched, not stored, not extracted; each named once.
    assert summary.errors == [
        "skipped member '../file-Up1-evil.png': its name climbs out of the folder (..)",
        "skipped member '/file-Abs2-evil.png': its name has an absolute path",
        "skipped member 'file-Link3-evil.png': it is a symbolic link",
    ]
    assert summary.attachments == 0 and summary.files_stored == 0
    assert summary.exit_code == 3
    assert list(dest.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["files"]
    assert db.execute(
        "SELECT count(*) FROM attachments WHERE extracted_path IS NOT NULL"
    ).fetchone() == (0,)
