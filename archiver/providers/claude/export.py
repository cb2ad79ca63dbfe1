"""Claude's data export (Settings → Privacy → Export data): detected by content, imported.

The zip (or its unpacked folder) holds ``conversations.json`` (an array of ``{uuid, name,
created_at, updated_at, chat_messages}``), ``users.json``, the projects (``projects.json``, or
``projects/<uuid>.json`` in 2026), ``memories.json`` and, lately, ``reflections/``. No file
bytes. The messages carry no parent pointers: in file order they are one branch
(``flatten_linear``). A conversation a live backup already holds keeps its tree: the
flattened copy never replaces it (counted ``skipped_older``; the next backup brings what is
newer). Projects go into ``projects`` and their documents, like the memories, become
searchable conversations (``knowledge.py``); every JSON file but ``conversations.json`` is
also kept whole (``export_files``)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import sqlite_utils

from archiver.flatten.records import FlatConversation
from archiver.importer.files import FileEntry
from archiver.importer.flat_import import Problem, import_flat
from archiver.importer.jsonarray import JSONArrayError, iter_json_array
from archiver.importer.source import (
    NOT_AN_ARRAY,
    ExportFiles,
    ImportOptions,
    first_array_item,
    without_bom,
)
from archiver.importer.summary import ImportSummary
from archiver.progress import Progress
from archiver.providers.claude.artifacts import artifact_versions
from archiver.providers.claude.flatten import ClaudeFlattenError, flatten_linear
from archiver.providers.claude.knowledge import memory_conversation, project_knowledge
from archiver.providers.claude.options import PROVIDER
from archiver.providers.claude.parse import parse_project
from archiver.providers.claude.pasted import store_pasted
from archiver.providers.claude.projects import exported_project, project_rows
from archiver.store.filestore import FileStoreError, store_beside
from archiver.store.projects import save_projects
from archiver.store.textdocs import save_textdocs

CONVERSATIONS = "conversations.json"
SIDE_FILES = ("users.json", "memories.json", "projects.json")
PROJECTS_FOLDER = "projects"
SOURCE = "export"


def _is_side_file(name: str) -> bool:
    path = PurePosixPath(name)
    if path.name in SIDE_FILES:
        return True
    return path.suffix == ".json" and path.parent.name == PROJECTS_FOLDER


def looks_like_claude_conversation(item: Any) -> bool:
    return isinstance(item, dict) and "chat_messages" in item and "mapping" not in item


def conversations_entry(files: ExportFiles) -> FileEntry | None:
    if files.kind == "file":
        return files.entries[0] if files.entries else None
    found = files.named(CONVERSATIONS)
    return found[0] if found else None


def is_claude_export(files: ExportFiles) -> bool:
    """A ``conversations.json`` whose entries have ``chat_messages``; an empty one only beside
    Claude's own side files (users.json, memories.json, projects)."""
    entry = conversations_entry(files)
    if entry is None:
        return False
    first = first_array_item(files, entry)
    if first is NOT_AN_ARRAY:  # a first conversation too big to parse here: its opening says
        head = files.head(entry).lstrip()
        return head.startswith(b"[") and b'"chat_messages"' in head and b'"mapping"' not in head
    if first is None:
        return files.kind != "file" and any(_is_side_file(n) for n in files.names())
    return looks_like_claude_conversation(first)


# --- reading the side files --------------------------------------------------------------


def _read_json(files: ExportFiles, entry: FileEntry, options: ImportOptions) -> Any:
    data = files.read_small(entry, options.limits.max_file_bytes)
    if data is None:
        raise ValueError("too large or unreadable")
    return json.loads(data)


@dataclass
class SideFiles:
    projects: list[dict[str, Any]] = field(default_factory=list)
    memories: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_side_files(files: ExportFiles, options: ImportOptions) -> SideFiles:
    """Projects (``projects.json``: an array; ``projects/<uuid>.json``: one each) and memories
    (``memories.json``: an array, or one object)."""
    side = SideFiles()
    for entry in files.entries:
        path = PurePosixPath(entry.name)
        is_list = path.name == "projects.json"
        is_one = path.suffix == ".json" and path.parent.name == PROJECTS_FOLDER
        is_memory = path.name == "memories.json"
        if not (is_list or is_one or is_memory):
            continue
        try:
            value = _read_json(files, entry, options)
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            side.errors.append(f"{entry.name}: not read ({exc})")
            continue
        values = value if isinstance(value, list) else [value]
        target = side.memories if is_memory else side.projects
        target += [v for v in values if isinstance(v, dict)]
    return side


def _conversation_items(
    files: ExportFiles, entry: FileEntry, live: set[str], summary: ImportSummary, docs: list[Any]
) -> Iterator[FlatConversation | Problem]:
    """The export's conversations, flattened; those a live backup holds are left alone."""
    with entry.open() as stream:
        try:
            for index, conv in enumerate(iter_json_array(without_bom(stream.read))):
                where = f"{entry.name} entry {index}"
                if not looks_like_claude_conversation(conv):
                    yield Problem(where, "not a conversation (no chat_messages)")
                    continue
                try:
                    flat = flatten_linear(conv, source=SOURCE)
                except ClaudeFlattenError as exc:
                    yield Problem(where, str(exc))
                    continue
                if flat.id in live:
                    summary.skipped_older += 1
                    continue
                messages = (
                    [m for m in conv["chat_messages"] if isinstance(m, dict)]
                    if isinstance(conv["chat_messages"], list)
                    else []
                )
                docs.append((flat.id, artifact_versions(flat.id, messages, linear=True)))
                yield flat
        except JSONArrayError as exc:
            yield Problem(entry.name, f"not a readable JSON array ({exc})")


def _live_conversations(db: sqlite_utils.Database) -> set[str]:
    """Conversations a backup (or a batch) wrote: trees the export must not flatten."""
    rows = db.execute(
        "SELECT id FROM conversations WHERE provider = ? AND source != ?", [PROVIDER, SOURCE]
    ).fetchall()
    return {row[0] for row in rows}


@dataclass
class ClaudeImportSummary(ImportSummary):
    artifact_versions: int = 0  # new artifact versions (textdocs)


def import_claude_export(
    db: sqlite_utils.Database,
    files: ExportFiles,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ClaudeImportSummary:
    entry = conversations_entry(files)
    if entry is None:  # pragma: no cover - detect said yes
        raise ValueError("no conversations.json")
    side = read_side_files(files, options)
    projects = [p for p in (parse_project(exported_project(raw)) for raw in side.projects) if p]
    if projects:
        save_projects(db, PROVIDER, "", project_rows(projects))
    names = {p.uuid: p.name for p in projects if p.name}
    live = _live_conversations(db)
    summary = ImportSummary()
    artifacts: list[Any] = []

    def everything() -> Iterator[FlatConversation | Problem]:
        yield from _conversation_items(files, entry, live, summary, artifacts)
        for raw in side.projects:
            flat = project_knowledge(raw, _docs(raw), source=SOURCE)
            if flat is not None:
                yield flat
        for memory in side.memories:
            flat = memory_conversation(memory, names, source=SOURCE)
            if flat is not None:
                yield flat

    extras = (
        [e for e in files.entries if e is not entry and e.name.lower().endswith(".json")]
        if files.kind != "file"
        else []
    )
    result = import_flat(
        db, everything(), options, summary=ClaudeImportSummary(), extras=extras, progress=progress
    )
    result.read += summary.skipped_older  # read, and left alone
    result.skipped_older += summary.skipped_older
    result.errors = side.errors + result.errors
    for conversation_id, versions in artifacts:
        result.artifact_versions += save_textdocs(db, conversation_id, versions)
    _store_pasted(db, options, result)
    return result


def _docs(project: dict[str, Any]) -> list[dict[str, Any]]:
    docs = project.get("docs")
    return [d for d in docs if isinstance(d, dict)] if isinstance(docs, list) else []


def _store_pasted(db: sqlite_utils.Database, options: ImportOptions, result: ImportSummary) -> None:
    """The pasted attachments' text into the file store (the export has no other bytes)."""
    store = store_beside(db) if options.store_files else None
    if store is None:
        return
    try:
        result.files_stored += store_pasted(db, store)
    except FileStoreError as exc:
        result.errors.append(f"pasted text not stored: {exc}; run the import again to finish")


detect = is_claude_export  # the names the contract gives them (archiver/providers/modules.py)
run_import = import_claude_export

__all__ = ["import_claude_export", "is_claude_export", "looks_like_claude_conversation"]
