"""``archiver import`` of Claude's data export, built from the same hand-written account as the
fake serves (``account.export_conversation``: the export's documented shape, no parents):
detected by content, imported exactly, never flattening a live tree, other JSON kept,
memories and project documents searchable."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archiver.backup.engine import BackupOptions
from archiver.backup.options import BackupRun
from archiver.config import Secret
from archiver.importer.source import ImportOptions, choose_format, open_files
from archiver.providers import registry
from archiver.providers.chatgpt.fake.generate import write_export_json
from archiver.providers.claude.backup import backup_claude
from archiver.providers.claude.client import ClaudeSettings, cookie_header
from archiver.query.search import search_messages as search
from archiver.store import open_db
from archiver.store.filestore import FileStore
from archiver.transport.pace import ClientPace
from tests.providers.claude import account as acc
from tests.providers.claude.fake_claude import running_fake
from tests.support.transport import FAST


def export_files(projects_form: str = "folder") -> dict[str, Any]:
    """The export's files: name → JSON value."""
    details = acc.conversations()
    files: dict[str, Any] = {
        "conversations.json": [acc.export_conversation(d) for d in details.values()],
        "users.json": acc.USERS,
        "memories.json": acc.MEMORIES,
        "reflections/99999999-9999-4999-8999-000000000001.json": {
            "account_uuid": acc.USERS[0]["uuid"],
            "reflections": [],
            "feedback": [],
        },
    }
    exported = [acc.export_project(p) for p in acc.PROJECTS]
    if projects_form == "folder":
        files.update({f"projects/{p['uuid']}.json": p for p in exported})
    else:
        files["projects.json"] = exported
    return files


def write_zip(path: Path, files: dict[str, Any]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in files.items():
            archive.writestr(name, json.dumps(value, ensure_ascii=False))
    return path


def import_into(db: Any, path: Path) -> Any:
    with open_files(path) as files:
        chosen = choose_format(files, [p.export for p in registry.all_providers() if p.export])
        assert chosen.label == "a Claude data export"
        return chosen.run(db, files, ImportOptions())


def backup(db: Any) -> None:
    with running_fake() as fake:
        settings = ClaudeSettings(Secret(cookie_header(acc.SESSION_KEY)), base_url=fake.base_url)
        summary = asyncio.run(
            backup_claude(db, settings, BackupRun(ClientPace(None, policy=FAST), BackupOptions()))
        )
    assert summary.exit_code == 0, summary.errors


def rows(db: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.execute(sql, list(args)).fetchall()]


@pytest.mark.parametrize("projects_form", ["folder", "array"])
def test_the_export_imports_exactly(tmp_path: Path, projects_form: str) -> None:
    db = open_db(tmp_path / "export.db")
    summary = import_into(db, write_zip(tmp_path / "data.zip", export_files(projects_form)))
    assert summary.exit_code == 0, summary.errors
    # Five conversations (one without messages), the project's knowledge, the memory.
    assert (summary.read, summary.new, summary.failed) == (7, 7, 0)
    conversations = {
        r[0]: r[1:]
        for r in rows(
            db,
            "SELECT id, provider, source, title, node_count, create_time, "
            "update_time FROM conversations",
        )
    }
    for uuid, detail in acc.conversations().items():
        provider, source, title, count, created, updated = conversations[uuid]
        assert (provider, source, title) == ("claude", "export", detail["name"] or None)
        assert count == len(acc.current_branch(detail))
        assert created.startswith(detail["created_at"][:19]) and created.endswith("Z")
        assert updated.startswith(detail["updated_at"][:19])
    assert conversations[acc.EMPTY][3] == 0  # a conversation with no messages lands too
    # One branch in file order, every message on it, text from the content blocks.
    lisbon = rows(
        db,
        "SELECT id, parent_id, role, text, on_current_branch, depth FROM messages "
        "WHERE conversation_id = ? ORDER BY depth",
        acc.LISBON,
    )
    assert [r[0] for r in lisbon] == acc.LISBON_BRANCH
    assert [r[1] for r in lisbon] == [None, *acc.LISBON_BRANCH[:-1]]
    assert [r[3] for r in lisbon] == [acc.LISBON_TEXTS[u] for u in acc.LISBON_BRANCH]
    assert {r[4] for r in lisbon} == {1}
    assert rows(db, "SELECT text FROM messages WHERE id = ?", acc.R_A1) == [("The answer is 2.",)]
    assert rows(db, "SELECT text FROM messages WHERE id = ?", acc.O_H1) == [("Hello there",)]
    # Pasted text kept (blank names, two rows); files named without bytes, marked so.
    store = FileStore.for_database(tmp_path / "export.db")
    pasted = rows(
        db,
        "SELECT asset_pointer, sha256 FROM attachments WHERE message_node_id = ? "
        "AND asset_pointer LIKE 'pasted:%' ORDER BY asset_pointer",
        acc.L_H1,
    )
    assert [store.path_for(sha).read_text() for _, sha in pasted] == acc.LISBON_PASTED
    named = rows(
        db,
        "SELECT file_name, download_status FROM attachments WHERE message_node_id = ? "
        "AND asset_pointer LIKE 'export-file:%'",
        acc.L_H1,
    )
    assert named == [("tram.png", "skipped"), ("tram.png", "skipped")]
    # Artifact versions, as the live backup keeps them.
    assert rows(
        db,
        "SELECT version, content FROM textdocs WHERE conversation_id = ? ORDER BY version",
        acc.LISBON,
    ) == [(1, acc.LISBON_ARTIFACT_V1), (2, acc.LISBON_ARTIFACT_V2)]
    # Projects, their knowledge and the memory: stored and searchable.
    assert rows(db, "SELECT id, provider, name FROM projects ORDER BY name") == [
        (acc.STARTER, "claude", "How to use Claude"),
        (acc.PROJECT, "claude", "Kitchen renovation"),
    ]
    tiler = {(hit.conversation_id, hit.title) for hit in search(db.conn, "tiler")}
    assert tiler == {
        (f"claude-project:{acc.PROJECT}", "Project knowledge: Kitchen renovation"),
        (f"claude-memory:{acc.USERS[0]['uuid']}", "Claude memory"),
    }
    assert [h.conversation_id for h in search(db.conn, "frugal")] == [
        f"claude-project:{acc.PROJECT}"
    ]
    assert [h.conversation_id for h in search(db.conn, "budget Lisbon")] == [
        f"claude-memory:{acc.USERS[0]['uuid']}"
    ]
    # Every other JSON file kept whole; conversations.json is the conversations.
    kept = {r[0] for r in rows(db, "SELECT name FROM export_files")}
    assert "conversations.json" not in kept
    assert {"users.json", "memories.json"} <= kept
    assert any(name.startswith("reflections/") for name in kept)
    assert any(name.startswith("projects") for name in kept)
    # Importing again changes nothing.
    again = import_into(db, tmp_path / "data.zip")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 7)


def test_the_export_matches_the_live_current_branch(tmp_path: Path) -> None:
    live = open_db(tmp_path / "live.db")
    backup(live)
    exported = open_db(tmp_path / "export.db")
    import_into(exported, write_zip(tmp_path / "data.zip", export_files()))
    # Everything but status: the export has no stop_reason.
    columns = "id, role, text, create_time, message_id, content_type, raw_json IS NOT NULL"
    for uuid in acc.conversations():
        branch = rows(
            live,
            f"SELECT {columns} FROM messages WHERE conversation_id = ? AND "
            "on_current_branch ORDER BY depth",
            uuid,
        )
        flat = rows(
            exported,
            f"SELECT {columns} FROM messages WHERE conversation_id = ? ORDER BY depth",
            uuid,
        )
        assert flat == branch, uuid


def test_a_live_tree_is_never_replaced_by_the_flattened_copy(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    backup(db)
    snapshot = (
        "SELECT conversation_id, id, parent_id, on_current_branch, text, deleted_upstream_at "
        "FROM messages WHERE conversation_id NOT LIKE 'claude-memory:%' ORDER BY pk"
    )
    before = rows(db, snapshot)
    sources = rows(db, "SELECT id, source, content_hash FROM conversations ORDER BY id")
    files = export_files()
    for conv in files["conversations.json"]:
        conv["updated_at"] = "2027-01-01T00:00:00.000000Z"  # even a newer export
    summary = import_into(db, write_zip(tmp_path / "data.zip", files))
    assert summary.exit_code == 0, summary.errors
    # The five trees, and the project's knowledge the backup already holds as it is.
    assert (summary.read, summary.skipped_older, summary.new) == (7, 6, 1)
    assert rows(db, snapshot) == before
    after = {r[0]: r[1:] for r in rows(db, "SELECT id, source, content_hash FROM conversations")}
    for ident, source, digest in sources:
        assert after[ident] == (source, digest)


def test_detected_by_content_only(tmp_path: Path) -> None:
    formats = [p.export for p in registry.all_providers() if p.export]
    folder = tmp_path / "unzipped"
    for name, value in export_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(value), encoding="utf-8")
    with open_files(folder) as files:
        assert choose_format(files, formats).label == "a Claude data export"
    # An empty export is Claude's by its side files; a ChatGPT export is not Claude's.
    empty = write_zip(tmp_path / "empty.zip", {"conversations.json": [], "users.json": acc.USERS})
    with open_files(empty) as files:
        assert choose_format(files, formats).label == "a Claude data export"
    chatgpt = tmp_path / "chatgpt.json"
    write_export_json(chatgpt, 2, seed=1)
    with open_files(chatgpt) as files:
        assert choose_format(files, formats).label == "a ChatGPT data export"
    # The conversations file alone is enough when its entries have chat_messages.
    single = tmp_path / "conversations.json"
    single.write_text(json.dumps(export_files()["conversations.json"]), encoding="utf-8")
    with open_files(single) as files:
        assert choose_format(files, formats).label == "a Claude data export"


@pytest.mark.slow  # a fresh interpreter
def test_the_import_does_not_load_the_network_stack(tmp_path: Path) -> None:
    import subprocess
    import sys

    export = write_zip(tmp_path / "data.zip", export_files())
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from archiver.cli import cli\n"
        "result = CliRunner().invoke(cli, ['import', sys.argv[1], sys.argv[2]])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "a.db"), str(export)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_backup_after_the_import_brings_the_whole_tree(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    import_into(db, write_zip(tmp_path / "data.zip", export_files()))
    assert rows(db, "SELECT count(*) FROM messages WHERE conversation_id = ?", acc.LISBON) == [(6,)]
    backup(db)
    lisbon = rows(
        db,
        "SELECT id, parent_id, on_current_branch, deleted_upstream_at FROM messages "
        "WHERE conversation_id = ?",
        acc.LISBON,
    )
    assert {r[0]: r[1] for r in lisbon} == acc.LISBON_PARENTS
    assert {r[0] for r in lisbon if r[2]} == set(acc.LISBON_BRANCH)
    assert {r[3] for r in lisbon} == {None}
    assert rows(db, "SELECT source FROM conversations WHERE id = ?", acc.LISBON) == [("api",)]
