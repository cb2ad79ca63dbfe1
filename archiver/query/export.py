"""Export conversations from the archive to files: one file per conversation, named from its
title and id. Reads rows here; ``render`` turns them into text."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archiver.errors import InputError
from archiver.privatefiles import write_private_text
from archiver.query.render import (
    EXTENSIONS,
    FORMATS,
    BlockReader,
    ConversationRows,
    plain_blocks,
    render,
)
from archiver.query.search import Executes
from archiver.query.thread import BRANCH_CHOICES, Branches
from archiver.store.filestore import FileStore

_SLUG_LENGTH = 60
_ID_LENGTH = 64


@dataclass
class ExportResult:
    out_dir: Path
    written: list[Path] = field(default_factory=list)

    def line(self) -> str:
        return f"Exported {len(self.written)} conversation(s) to {self.out_dir}"


def _rows(db: Executes, sql: str, params: list[object]) -> list[dict[str, object]]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# provider name -> how its messages read as blocks (the CLI and the gateway pass the registry's)
BlockReaders = Callable[[str], BlockReader]


def plain_readers(_provider: str) -> BlockReader:
    """Every provider read as plain text: for callers with no provider registry at hand."""
    return plain_blocks


def load_conversation(
    db: Executes, conversation_id: str, readers: BlockReaders = plain_readers
) -> ConversationRows:
    """One conversation with every message (all branches) and attachment it has, and its
    provider's block reader from ``readers``."""
    found = _rows(db, "SELECT * FROM conversations WHERE id = ?", [conversation_id])
    if not found:
        raise InputError(f"no conversation with id {conversation_id!r} in the archive")
    messages = _rows(
        db, "SELECT * FROM messages WHERE conversation_id = ? ORDER BY rowid", [conversation_id]
    )
    attachments = _rows(
        db,
        "SELECT * FROM attachments WHERE conversation_id = ? ORDER BY message_node_id, asset_pointer",
        [conversation_id],
    )
    _add_stored_paths(db, attachments)
    provider = str(found[0].get("provider") or "")
    return ConversationRows(found[0], messages, attachments, readers(provider))


def _add_stored_paths(db: Executes, attachments: list[dict[str, object]]) -> None:
    """Point each downloaded attachment at its file in the store beside the database
    (``stored_path``), so that exports link to the file itself."""
    stored = [a for a in attachments if a.get("download_status") == "stored" and a.get("sha256")]
    if not stored:
        return
    row = db.execute("PRAGMA database_list").fetchone()
    if not row or not row[2]:
        return  # an in-memory database has no store
    store = FileStore.for_database(row[2])
    for attachment in stored:
        path = store.path_for(str(attachment["sha256"]))
        if path.is_file():
            attachment["stored_path"] = str(path)


def all_conversation_ids(db: Executes) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM conversations ORDER BY coalesce(create_time, update_time), id"
        )
    ]


def known_ids(db: Executes, conversation_ids: Iterable[str]) -> list[str]:
    """The ids, each once, in the order given; an unknown one fails before anything is written."""
    ids = list(dict.fromkeys(conversation_ids))
    for conversation_id in ids:
        if not db.execute("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]).fetchone():
            raise InputError(f"no conversation with id {conversation_id!r} in the archive")
    return ids


def _slug(title: str | None) -> str:
    text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:_SLUG_LENGTH].strip("-")
    return slug or "untitled"


def safe_filename(title: str | None, conversation_id: str, extension: str) -> str:
    """``<title-slug>-<id>.<ext>``. An id with characters unsafe in file names (Bing ids hold
    ``|``) or an overlong one is cleaned and given a short hash, so names stay unique."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", conversation_id).strip(".")
    if clean != conversation_id or len(clean) > _ID_LENGTH:
        digest = hashlib.sha256(conversation_id.encode()).hexdigest()[:10]
        clean = f"{clean[: _ID_LENGTH - 11]}-{digest}"
    return f"{_slug(title)}-{clean}.{extension}"


def iter_exports(
    db: Executes,
    conversation_ids: Iterable[str],
    fmt: str,
    branches: Branches,
    readers: BlockReaders = plain_readers,
) -> Iterator[tuple[str, str]]:
    """(file name, text) for each conversation, one conversation in memory at a time."""
    for conversation_id in conversation_ids:
        doc = load_conversation(db, conversation_id, readers)
        name = safe_filename(doc.conversation.get("title"), conversation_id, EXTENSIONS[fmt])
        yield name, render(doc, fmt, branches)


def export_conversations(
    db: Executes,
    out_dir: str | os.PathLike[str],
    *,
    conversation_ids: list[str] | None = None,
    fmt: str = "markdown",
    branches: Branches = "current",
    readers: BlockReaders = plain_readers,
) -> ExportResult:
    """Write the given conversations (every one when ``conversation_ids`` is None) to
    ``out_dir``, one file each. Unknown ids fail before anything is written."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if branches not in BRANCH_CHOICES:
        raise InputError(f"unknown --branches {branches!r}: choose current or all")
    ids = all_conversation_ids(db) if conversation_ids is None else known_ids(db, conversation_ids)
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"--out {directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    result = ExportResult(directory)
    for name, text in iter_exports(db, ids, fmt, branches, readers):
        path = directory / name
        write_private_text(path, text)
        result.written.append(path)
    return result
