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
        name: table(db_path, f"SELECT count(*) FROM {name}")[0][0]  # noqa: S608 - fixed names
        for name in ("conversations", "messages", "attachments", "export_files")
    }
