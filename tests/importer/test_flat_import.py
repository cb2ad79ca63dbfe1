"""``import_flat``'s ``keep_newer``: by default an export never overwrites a copy the archive
holds at the same or a later time; a format whose rows already merge the archived copy with the
export (``keep_newer=False``) is written whenever its content differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archiver.flatten.records import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, FlatConversation
from archiver.importer.flat_import import import_flat
from archiver.importer.source import ImportOptions
from archiver.importer.summary import ImportSummary
from archiver.store import open_db


def flat(texts: list[str], update_time: str, content: str) -> FlatConversation:
    conversation: dict[str, Any] = dict.fromkeys(CONVERSATION_COLUMNS)
    conversation.update(
        id="conv-1",
        provider="test",
        account="",
        source="export",
        update_time=update_time,
        content_hash=content,
        flattener_version=1,
    )
    messages = []
    for index, text in enumerate(texts):
        row: dict[str, Any] = dict.fromkeys(MESSAGE_COLUMNS)
        row.update(conversation_id="conv-1", id=f"m{index}", text=text, is_hidden=0, depth=index)
        row.update(on_current_branch=1, raw_json="{}")
        messages.append(row)
    return FlatConversation(conversation, messages)


def texts(db: Any) -> list[str]:
    return [r[0] for r in db.execute("SELECT text FROM messages ORDER BY id")]


def test_keep_newer_by_default_and_merged_rows_when_asked(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    options = ImportOptions(store_files=False)
    first = import_flat(
        db, [flat(["a"], "2026-02-01T00:00:00.000000Z", "h1")], options, summary=ImportSummary()
    )
    assert first.new == 1
    # Rows that hold the archived copy plus one more message, from an export made earlier:
    merged = flat(["a", "b"], "2026-01-01T00:00:00.000000Z", "h2")
    kept = import_flat(db, [merged], options, summary=ImportSummary())
    assert kept.skipped_older == 1 and texts(db) == ["a"]
    written = import_flat(db, [merged], options, summary=ImportSummary(), keep_newer=False)
    assert written.updated == 1 and texts(db) == ["a", "b"]
    again = import_flat(db, [merged], options, summary=ImportSummary(), keep_newer=False)
    assert again.unchanged == 1
