"""A vault exported from a real-shaped 2023-2026 archive with files (tests/support/era_export.py,
imported by the project's own importer): a note for every conversation, complete front matter,
every current-branch message in order, every stored file linked and byte-exact."""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from archiver.cli import cli
from archiver.providers.chatgpt.export.run import import_export
from archiver.providers.registry import block_reader
from archiver.query.export import all_conversation_ids, load_conversation
from archiver.query.thread import current_path, is_visible
from archiver.query.vault import export_vault as vault_writer
from archiver.store import open_db
from archiver.store.filestore import FileStore
from tests.support.era_export import FILES, write_era_export

LINK = re.compile(r"\]\(<(attachments/[^>]+)>\)")
TOKEN = re.compile(r"tok-[0-9a-z]+-\d")


def export_vault(*args, **kwargs):
    """The vault writer with each provider's own block reader, as ``archiver export`` runs it."""
    return vault_writer(*args, readers=block_reader, **kwargs)


@pytest.fixture(scope="module")
def era_archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eras")
    db_path = folder / "archive.db"
    db = open_db(db_path)
    summary = import_export(db, write_era_export(folder / "export.zip"))
    assert summary.exit_code == 0, summary.errors
    db.close()
    return db_path


def notes_by_id(vault: Path) -> dict[str, tuple[dict, str]]:
    found = {}
    for path in vault.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        _, head, body = text.split("---\n", 2)
        meta = yaml.safe_load(head)
        assert meta["id"] not in found, f"two notes for {meta['id']}"
        found[meta["id"]] = (meta, body)
    return found


def test_every_conversation_has_a_complete_note_with_its_branch_in_order(era_archive, tmp_path):
    db = open_db(era_archive)
    ids = all_conversation_ids(db)
    assert len(ids) == 9
    vault = tmp_path / "vault"
    result = export_vault(db, vault, ids, tz=UTC)
    assert len(result.written) == 9 and not result.kept
    notes = notes_by_id(vault)
    assert set(notes) == set(ids)
    years = set()
    for conversation_id in ids:
        meta, body = notes[conversation_id]
        doc = load_conversation(db, conversation_id)
        conv = doc.conversation
        # Complete front matter: every key Obsidian shows, in the zone asked for.
        assert meta["id"] == conversation_id and meta["provider"] == "chatgpt"
        assert meta["title"] == (conv["title"] or "Untitled conversation")
        for key, column in (("created", "create_time"), ("updated", "update_time")):
            if conv[column]:
                assert meta[key].startswith(conv[column][:16]) and meta[key].endswith("+00:00")
        if conv["default_model_slug"]:
            assert meta["model"] == conv["default_model_slug"]
        assert meta["tags"] == ["archiver", "archiver/chatgpt"]
        assert meta["branches"] == "current" and len(meta["archiver_sha256"]) == 64
        if conv["title"]:
            assert meta["aliases"] == [conv["title"]]
        years.add((conv["create_time"] or "")[:4])
        # Every current-branch message, in order, and nothing else.
        branch = [m for m in current_path(doc.messages, conv["current_node"]) if is_visible(m)]
        headings = [line for line in body.split("\n") if line.startswith("## ")]
        assert len(headings) == len(branch) == meta["messages"]
        expected = [t for m in branch for t in TOKEN.findall(m["text"] or "")]
        assert TOKEN.findall(body) == expected
        assert "tok-2023a-x" not in body and "tok-2024b-x" not in body  # other branches
    assert {"2023", "2024", "2025", "2026"} <= years


def test_every_stored_file_is_linked_and_byte_exact(era_archive, tmp_path):
    db = open_db(era_archive)
    vault = tmp_path / "vault"
    export_vault(db, vault, all_conversation_ids(db), tz=UTC)
    notes = notes_by_id(vault)
    store = FileStore.for_database(era_archive)
    stored = db.execute(
        "SELECT conversation_id, message_node_id, file_name, sha256 FROM attachments "
        "WHERE download_status = 'stored'"
    ).fetchall()
    assert {name for _, _, name, _ in stored} == set(FILES)  # every file of the export
    linked: set[str] = set()
    for conversation_id, _node, name, sha256 in stored:
        _, body = notes[conversation_id]
        targets = LINK.findall(body)
        copy = next(vault / t for t in targets if t.split("/")[1].startswith(sha256[:20]))
        assert copy.read_bytes() == FILES[name] == store.path_for(sha256).read_bytes()
        linked.add(copy.name)
    # Each content once, however many rows point at it; and no link leads nowhere.
    assert sorted(p.name for p in (vault / "attachments").iterdir()) == sorted(linked)
    assert len(linked) == len(FILES)
    for _, body in notes.values():
        for target in LINK.findall(body):
            assert (vault / target).is_file(), target
    # Images are embedded; the PDF is linked; the file the export lacked is named only.
    beach = notes["e2024a"][1]
    assert re.search(r"!\[image\]\(<attachments/[0-9a-f]{20}\.png>\)", beach)
    assert re.search(r"- \[[^\]]*quarterly report\.pdf\]\(<attachments/[0-9a-f]{20}\.pdf>\)", beach)
    assert "file_00000000gone2026 (not stored in the archive)" in notes["e2026"][1]
    # A citation with a script link is named, never linked.
    assert "- bad (javascript:alert(1))" in notes["e2023b"][1]
    assert not any("(<javascript:" in body for _, body in notes.values())


def test_a_second_export_changes_nothing_and_copies_nothing(era_archive, tmp_path):
    db = open_db(era_archive)
    vault = tmp_path / "vault"
    export_vault(db, vault, all_conversation_ids(db), tz=UTC)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in vault.rglob("*") if p.is_file()}
    again = export_vault(db, vault, all_conversation_ids(db), tz=UTC)
    assert (len(again.written), len(again.unchanged), again.files_copied) == (0, 9, 0)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in vault.rglob("*") if p.is_file()}
    assert after == before


def test_the_cli_writes_the_vault_with_every_branch(era_archive, tmp_path):
    vault = tmp_path / "vault"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            str(era_archive),
            "--all",
            "--format",
            "obsidian",
            "--branches",
            "all",
            "--out",
            str(vault),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Exported 9 note(s)" in result.output and "6 file(s) copied" in result.output
    notes = notes_by_id(vault)
    _, body = notes["e2024b"]
    # The first answer (regenerated away) is in a collapsed callout; the current one is not.
    assert "> [!quote]- Alternative 1 of 2\n> ## Assistant" in body
    assert "> tok-2024b-x It is 5050 (first try)." in body
    assert "\ntok-2024b-4 It is **5050**." in body
    assert notes["e2023a"][0]["branches"] == "all"
    # The web address comes from the provider (the CLI fills it in from the registry).
    assert notes["e2024b"][0]["url"] == "https://chatgpt.com/c/e2024b"
