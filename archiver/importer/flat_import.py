"""Importing an export that a provider has already read into rows: every export format except
ChatGPT's (whose huge exports have a pipeline of their own, in its package) reads its
files into ``FlatConversation`` values and hands them here.

The save rules are the live backup's (``source='export'``, ``keep_newer``): re-importing
skips what is unchanged, an older export never overwrites newer data, and a conversation seen
both live and in an export stays one conversation (same id), unless the provider's rows say
otherwise. Each conversation is atomic; many share a transaction (store.bulk). A conversation
that cannot be read is a ``Problem`` naming it: counted, reported, and the rest goes on. The
files the rows point at are matched through ``files`` (the provider fills its aliases) and put
into the file store; every other file of the export that is JSON is kept whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlite_utils

from archiver.flatten.records import MESSAGE_COLUMNS, FlatConversation
from archiver.importer.attach import attach_files
from archiver.importer.files import Extractor, FileEntry, FileIndex
from archiver.importer.keep import keep_files
from archiver.importer.source import ImportOptions
from archiver.importer.summary import ImportSummary
from archiver.progress import NullProgress, Progress
from archiver.store.bulk import BulkSaver
from archiver.store.filestore import FileStoreError, store_beside

S = TypeVar("S", bound=ImportSummary)


@dataclass(frozen=True)
class Problem:
    """An entry of the export that could not be read as a conversation: ``where`` names it
    (the file and the entry's number or id), ``reason`` says why."""

    where: str
    reason: str


def import_flat(
    db: sqlite_utils.Database,
    conversations: Iterable[FlatConversation | Problem],
    options: ImportOptions,
    *,
    summary: S,
    files: FileIndex | None = None,
    extras: Sequence[FileEntry] = (),
    progress: Progress | None = None,
    total: int | None = None,
    keep_newer: bool = True,
) -> S:
    """Save every conversation, then store the files their attachment rows point at, then keep
    ``extras`` (the export's other files) whole, counting into ``summary`` (a format with more
    to say gives its own ``ImportSummary``, and fills in the rest itself). ``total``: how many
    entries to expect, for the progress bar. ``keep_newer=False`` is for a format whose rows
    already merge what the archive holds for each conversation with what the export says
    (Gemini's Takeout): a conversation is then written whenever its content differs, even when
    the archived copy is newer, since nothing archived is left out of the rows."""
    progress = progress or NullProgress()
    seen: dict[str, None] = {}
    progress.start(total, "Importing")
    try:
        with BulkSaver(db, keep_newer=keep_newer) as saver:
            for item in conversations:
                progress.advance()
                if isinstance(item, Problem):
                    summary.read += 1
                    summary.failed += 1
                    summary.errors.append(f"{item.where}: {item.reason}")
                    continue
                summary.read += 1
                values = [[row.get(c) for c in MESSAGE_COLUMNS] for row in item.messages]
                try:
                    outcome = saver.save(item.conversation, values, item.attachments)
                except (ValueError, sqlite3.IntegrityError, sqlite3.InterfaceError) as exc:
                    summary.failed += 1
                    summary.errors.append(f"{item.id}: could not be saved ({exc})")
                    continue
                summary.count(outcome, len(values))
                if item.id in seen:
                    summary.duplicates += 1
                seen[item.id] = None
    finally:
        progress.finish()
    limits = options.limits
    if files is not None and len(files):
        extractor = Extractor(options.extract_dir, limits) if options.extract_dir else None
        try:
            results = attach_files(
                db,
                files,
                list(seen),
                store=store_beside(db) if options.store_files else None,
                extractor=extractor,
                max_bytes=limits.max_file_bytes,
            )
        except FileStoreError as exc:  # a full disk: every later file would fail too
            summary.errors.append(f"files not stored: {exc}; run the import again to finish")
        else:
            summary.attachments = results.matched
            summary.files_stored = results.stored
            summary.extracted = results.extracted
            summary.errors.extend(results.errors)
    if extras:
        kept = keep_files(db, extras, max_bytes=limits.max_file_bytes)
        summary.json_files = kept.files
        summary.errors.extend(kept.errors)
    return summary
