"""The export's files, after its conversations are saved: each attachment row of a
conversation read in this run gets the name of its file in the export, and (by default) the
file's bytes go into the content-addressed store beside the database (store/filestore.py, the
same one the live backup downloads into), with their sha256 on the row and
``download_status = 'stored'`` — so a later backup never downloads them again. Extraction to a
folder (``--extract-files``) still writes them out by name, safely (files.Extractor).

The same file pointed at by many rows (a ``file-service://`` part and its
``metadata.attachments`` entry, or one image in two chats) is read once. A file already stored
by an earlier run (its sha256 on the row and in the store) is not read again. A run killed
here is simply done again by the next one: the store is content-addressed and the row
updates are idempotent, written a few hundred at a time."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from zlib import error as ZlibError

import sqlite_utils

from archiver.importer.files import Extractor, ExtractRefused, FileEntry, FileIndex
from archiver.store.db import transaction
from archiver.store.filestore import FileStore, FileStoreError, FileTooLarge, StoredFile
from archiver.timeutil import utc_now_iso

_UPDATE_EVERY = 200  # rows per transaction


@dataclass
class FileResults:
    matched: int = 0  # attachment rows that found their file in the export
    stored: int = 0  # files put into the store by this run
    reused: int = 0  # files the store already had (an earlier run, or another row)
    extracted: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Done:
    stored: StoredFile | None = None
    status: str | None = None  # 'stored' | 'too_large' | None (store not asked)
    error: str | None = None
    extracted: str | None = None


def _rows(db: sqlite_utils.Database, conversation_ids: list[str]) -> Iterator[tuple]:
    for start in range(0, len(conversation_ids), 5000):
        chunk = json.dumps(conversation_ids[start : start + 5000])
        yield from db.execute(
            "SELECT conversation_id, message_node_id, asset_pointer, sha256, download_status "
            "FROM attachments WHERE conversation_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY conversation_id, message_node_id, asset_pointer",
            [chunk],
        ).fetchall()


def attach_files(
    db: sqlite_utils.Database,
    files: FileIndex,
    conversation_ids: list[str],
    *,
    store: FileStore | None,
    extractor: Extractor | None,
    max_bytes: int | None,
) -> FileResults:
    """Match, store and extract the files of the attachment rows of ``conversation_ids``."""
    results = FileResults()
    if not len(files) or not conversation_ids:
        return results
    by_entry: dict[str, tuple[FileEntry, list[tuple]]] = {}
    for row in _rows(db, conversation_ids):
        entry = files.find(row[2])
        if entry is not None:
            by_entry.setdefault(entry.name, (entry, []))[1].append(row)
            results.matched += 1
    now = utc_now_iso()
    updates: list[list[object]] = []
    for entry, rows in by_entry.values():
        # A copy an earlier run stored (and the store still has) is reused, not read again.
        known = next(
            (
                (r[3], r[4])
                for r in rows
                if r[4] == "stored" and store is not None and store.has(r[3])
            ),
            None,
        )
        outcome = _handle(entry, store if known is None else None, extractor, max_bytes)
        if known is not None:
            results.reused += 1
        elif outcome.stored is not None:
            results.stored += 1
        if outcome.error:
            results.errors.append(f"{rows[0][0]}: {outcome.error}")
        sha256 = outcome.stored.sha256 if outcome.stored else (known[0] if known else None)
        size = outcome.stored.size if outcome.stored else None
        status = outcome.status or (known[1] if known else None)
        error = outcome.error if outcome.status == "too_large" else None
        for conversation_id, node_id, pointer, _sha, _status in rows:
            # In the order of the UPDATE in _write.
            updates.append(
                [
                    *(entry.name, outcome.extracted, sha256, size, status, status, error),
                    *(status, now, conversation_id, node_id, pointer),
                ]
            )
        if len(updates) >= _UPDATE_EVERY:
            _write(db, updates)
            updates = []
    _write(db, updates)
    if extractor is not None:
        results.extracted = extractor.extracted
    return results


def _handle(
    entry: FileEntry,
    store: FileStore | None,
    extractor: Extractor | None,
    max_bytes: int | None,
) -> _Done:
    outcome = _Done()
    if store is not None:
        if max_bytes is not None and entry.size > max_bytes:
            outcome.status = "too_large"
            outcome.error = (
                f"{entry.name!r} is {entry.size} bytes, over the per-file limit of "
                f"{max_bytes} (--max-file-mb): not stored"
            )
        else:
            try:
                with entry.open() as source:
                    outcome.stored = store.put_chunks(_chunks(source), max_bytes=max_bytes)
                outcome.status = "stored"
            except FileTooLarge as exc:
                outcome.status = "too_large"
                outcome.error = f"{entry.name!r}: {exc}: not stored"
            except (zipfile.BadZipFile, ZlibError, EOFError, OSError) as exc:
                outcome.error = f"could not read {entry.name!r} from the export ({exc})"
    if extractor is not None:
        try:
            outcome.extracted = str(extractor.extract(entry))
        except ExtractRefused as exc:
            outcome.error = str(exc)
        except (zipfile.BadZipFile, ZlibError, EOFError, OSError) as exc:
            outcome.error = f"could not extract {entry.name!r} ({exc})"
    return outcome


def _chunks(source: object) -> Iterator[bytes]:
    read = source.read  # type: ignore[attr-defined]
    while chunk := read(1 << 20):
        yield chunk


def _write(db: sqlite_utils.Database, updates: list[list[object]]) -> None:
    """file_name always (the export's name for it); sha256, size and status when known; an
    extracted path already recorded is kept; downloaded_at moves only when stored."""
    if not updates:
        return
    with transaction(db) as conn:
        conn.executemany(
            "UPDATE attachments SET file_name = ?, "
            "extracted_path = coalesce(?, extracted_path), "
            "sha256 = coalesce(?, sha256), size_bytes = coalesce(?, size_bytes), "
            "download_status = coalesce(?, download_status), "
            "download_error = CASE WHEN ? IS NOT NULL THEN ? ELSE download_error END, "
            "downloaded_at = CASE WHEN ? = 'stored' THEN ? ELSE downloaded_at END "
            "WHERE conversation_id = ? AND message_node_id = ? AND asset_pointer = ?",
            updates,
        )


__all__ = ["FileResults", "FileStoreError", "attach_files"]
