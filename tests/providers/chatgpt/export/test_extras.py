"""The export's other files (docs/import.md, "The rest of the export"): every JSON file kept
whole in export_files, shared links, canvas documents and feedback where they belong,
chat.html by name and size only, bad files named and partial (exit 3)."""

from __future__ import annotations

import hashlib
import json

from archiver.importer.files import ExtractLimits
from archiver.providers.chatgpt.export.run import import_export
from archiver.store import open_db
from tests.support.export_helpers import conversation, write_zip

SHARED = [
    {"id": "share-1", "conversation_id": "c1", "title": "Chat c1", "is_anonymous": True},
    {"id": "share-2", "conversation_id": "gone", "title": "Deleted chat", "is_anonymous": False},
]
FEEDBACK = [
    {
        "id": "fb-1",
        "conversation_id": "c1",
        "message_id": "c1-ma",  # the assistant message's own id (node c1-a)
        "rating": "thumbsDown",
        "content": json.dumps({"tags": ["not-true"], "text": "Wrong year."}),
        "create_time": "2024-02-01T10:00:00.000000+00:00",
    },
    {"id": "c2-a", "conversation_id": "c2", "rating": "thumbsUp"},  # older form: id is the node
]
TEXTDOCS = [
    {"id": "doc-1", "version": 1, "title": "Plan", "textdoc_type": "document", "content": "v1"},
    {"id": "doc-1", "version": 2, "title": "Plan", "textdoc_type": "document", "content": "v2"},
]
OTHER_JSON = {
    "user.json": b'{"id": "user-1", "email": "someone@example.com"}',
    "user_settings.json": b'{"settings": {"theme": "dark"}}',
    "model_comparisons.json": b"[]",
    "group_chats.json": b'{"chats": []}',
    "shopping.json": b"[]",
    "sora.json": b'{"generations": []}',
}


def full_export(tmp_path, **extra_files):
    files = {
        "shared_conversations.json": json.dumps(SHARED).encode(),
        "message_feedback.json": json.dumps(FEEDBACK).encode(),
        "textdocs/c1.json": json.dumps(TEXTDOCS).encode(),
        "textdocs/c2/doc-9.json": json.dumps(
            {"id": "doc-9", "version": 3, "textdoc_type": "code/python", "content": "print(1)"}
        ).encode(),
        "chat.html": b"<html>" + b"x" * 5000 + b"</html>",
        **OTHER_JSON,
        **extra_files,
    }
    files.pop("user.json")  # write_zip writes its own user.json
    return write_zip(tmp_path / "export.zip", [conversation("c1"), conversation("c2")], files=files)


def test_every_other_file_is_archived_and_lands_where_it_belongs(tmp_path):
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, full_export(tmp_path))
    assert summary.exit_code == 0, summary.errors
    assert (summary.shared_links, summary.textdocs, summary.feedback) == (2, 3, 2)
    files = {
        name: (sha256, size, kind, content)
        for name, sha256, size, kind, content in db.execute(
            "SELECT name, sha256, size_bytes, kind, content FROM export_files"
        )
    }
    assert set(files) == {
        "user.json",
        "user_settings.json",
        "model_comparisons.json",
        "group_chats.json",
        "shopping.json",
        "sora.json",
        "shared_conversations.json",
        "message_feedback.json",
        "textdocs/c1.json",
        "textdocs/c2/doc-9.json",
        "chat.html",
    }
    assert summary.json_files == len(files)
    data = json.dumps(SHARED).encode()
    assert files["shared_conversations.json"] == (
        hashlib.sha256(data).hexdigest(),
        len(data),
        "json",
        data.decode(),
    )
    assert files["chat.html"] == ("", 5013, "html", None)  # by name and size only
    links = db.execute(
        "SELECT id, conversation_id, title, is_anonymous, deleted_upstream_at FROM shared_links "
        "ORDER BY id"
    ).fetchall()
    assert links == [
        ("share-1", "c1", "Chat c1", 1, None),
        ("share-2", "gone", "Deleted chat", 0, None),
    ]
    feedback = db.execute(
        "SELECT id, conversation_id, node_id, rating, text FROM message_feedback ORDER BY id"
    ).fetchall()
    assert feedback == [
        ("c2-a", "c2", "c2-a", "thumbsUp", None),
        ("fb-1", "c1", "c1-a", "thumbsDown", "Wrong year."),
    ]
    docs = db.execute(
        "SELECT conversation_id, id, version, textdoc_type, content FROM textdocs ORDER BY 2, 3"
    ).fetchall()
    assert docs == [
        ("c1", "doc-1", 1, "document", "v1"),
        ("c1", "doc-1", 2, "document", "v2"),
        ("c2", "doc-9", 3, "code/python", "print(1)"),
    ]


def test_reimporting_the_same_export_writes_nothing(tmp_path):
    db = open_db(tmp_path / "a.db")
    path = full_export(tmp_path)
    import_export(db, path)
    before = db.conn.total_changes
    summary = import_export(db, path)
    assert (summary.json_files, summary.shared_links, summary.textdocs, summary.feedback) == (
        0,
        0,
        0,
        0,
    )
    assert db.conn.total_changes == before


def test_a_live_unshare_is_not_undone_by_an_older_export(tmp_path):
    db = open_db(tmp_path / "a.db")
    path = full_export(tmp_path)
    import_export(db, path)
    with db.conn:
        db.conn.execute("UPDATE shared_links SET deleted_upstream_at = 'x' WHERE id = 'share-2'")
    import_export(db, path)
    assert db.execute(
        "SELECT deleted_upstream_at FROM shared_links WHERE id = 'share-2'"
    ).fetchone() == ("x",)


def test_bad_and_oversized_files_are_named_recorded_and_partial(tmp_path):
    db = open_db(tmp_path / "a.db")
    path = full_export(
        tmp_path,
        **{"broken.json": b'{"half": ', "huge.json": b"[" + b"1," * 2000 + b"1]"},
    )
    summary = import_export(db, path, limits=ExtractLimits(max_file_bytes=1000))
    assert summary.exit_code == 3 and summary.new == 2  # the conversations are all there
    errors = sorted(summary.errors)
    assert errors[0].startswith("broken.json: not JSON (Expecting value")
    assert any(
        e.startswith("huge.json: 4003 bytes, over the per-file limit of 1000") for e in errors
    )
    kinds = dict(db.execute("SELECT name, kind FROM export_files"))
    assert kinds["broken.json"] == "invalid" and kinds["huge.json"] == "too_large"
