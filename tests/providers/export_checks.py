"""What the tests of the import-only providers share: importing a sample the way a user does
(``archiver import``), reading back the rows, zipping a sample folder, and rendering a message
with its provider's renderer."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from archiver.cli import cli
from archiver.providers import registry
from archiver.query.blocks import Block
from archiver.store import open_db


def run_import(db_path: Path, export: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["import", str(db_path), str(export), *args])


def copy_sample(sample: Path, tmp_path: Path) -> Path:
    """A private copy of a sample folder, for tests that change it."""
    target = tmp_path / sample.name
    shutil.copytree(sample, target)
    return target


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def table(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return open_db(db_path).execute(sql, params).fetchall()


def messages(db_path: Path, conversation_id: str) -> list[tuple[Any, ...]]:
    """(id, parent_id, role, text, on_current_branch, model_slug, create_time) of every
    message of a conversation, by id."""
    return table(
        db_path,
        "SELECT id, parent_id, role, text, on_current_branch, model_slug, create_time "
        "FROM messages WHERE conversation_id = ? ORDER BY id",
        (conversation_id,),
    )


def raw_message(db_path: Path, conversation_id: str, node_id: str) -> Any:
    (raw,) = table(
        db_path,
        "SELECT raw_json FROM messages WHERE conversation_id = ? AND id = ?",
        (conversation_id, node_id),
    )[0]
    return json.loads(raw)


def blocks_of(db_path: Path, provider: str, conversation_id: str, node_id: str) -> list[Block]:
    """What the provider's renderer shows for one archived message (no files linked)."""
    db = open_db(db_path)
    cursor = db.execute(
        "SELECT * FROM messages WHERE conversation_id = ? AND id = ?", (conversation_id, node_id)
    )
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone(), strict=True))
    reader = registry.get(provider).renderer.blocks
    return reader(json.loads(row["raw_json"]), row, {})


def counts(db_path: Path) -> dict[str, int]:
    """How many rows each table holds: a re-import must leave every count as it was."""
    return {
        name: table(db_path, f"SELECT count(*) FROM {name}")[0][0]
        for name in ("conversations", "messages", "attachments", "export_files")
    }


def imported(db_path: Path, export: Path) -> None:
    result = run_import(db_path, export)
    assert result.exit_code == 0, result.output


def assert_a_reimport_adds_nothing(db_path: Path, export: Path, conversations: int) -> None:
    """Import ``export`` twice: the second run finds every conversation unchanged, stores no
    file again and leaves every table and content hash as it was."""
    imported(db_path, export)
    before = counts(db_path)
    hashes = table(db_path, "SELECT id, content_hash FROM conversations ORDER BY id")
    result = run_import(db_path, export)
    assert result.exit_code == 0, result.output
    assert f"read {conversations}, new 0, updated 0, unchanged {conversations}" in result.output
    assert "files_stored 0" in result.output and "json_files 0" in result.output
    assert counts(db_path) == before
    assert table(db_path, "SELECT id, content_hash FROM conversations ORDER BY id") == hashes


def assert_reflatten_keeps_the_rows(
    db_path: Path, provider: str, export: Path, conversations: int
) -> None:
    """``reflatten`` (twice) re-derives from the raw JSON exactly the rows the import wrote,
    and the export imported again is still unchanged."""
    from archiver.store.rebuild import reflatten

    imported(db_path, export)
    query = "SELECT * FROM messages ORDER BY conversation_id, id"
    before = table(db_path, query)
    reflattener = registry.get(provider).reflatten
    assert reflattener is not None
    for _ in range(2):
        summary = reflatten(open_db(db_path), {provider: reflattener}, everything=True)
        assert summary.conversations == conversations and not summary.errors
        assert table(db_path, query) == before
    assert f"unchanged {conversations}" in run_import(db_path, export).output


def conversations(db_path: Path) -> list[tuple[Any, ...]]:
    """(id, provider, source, title, create_time, update_time, current_node, node_count) of
    every conversation, oldest first."""
    return table(
        db_path,
        "SELECT id, provider, source, title, create_time, update_time, current_node, node_count "
        "FROM conversations ORDER BY create_time",
    )


def export_in_form(form: str, sample: Path, tmp_path: Path, one_file: Path | None = None) -> Path:
    """The sample as a user may hand it over: its folder, zipped, or its one file."""
    if form == "zip":
        return zip_folder(sample, tmp_path / "export.zip")
    if form == "file":
        assert one_file is not None
        return one_file
    return sample
