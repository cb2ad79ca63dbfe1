"""What a Claude message carries that needs no download: pasted text (``attachments[]`` with
``extracted_content``) goes into the file store, so its attachment row (``pasted:N``) has a
sha256 like any file's; a file an export names without bytes is marked ``skipped``. No
network here (the import runs it, and must not load the HTTP stack)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from archiver.backup.downloads import SKIPPED, STORED
from archiver.loosejson import as_dict
from archiver.providers.claude.flatten import EXPORT_FILE, PASTED
from archiver.providers.claude.options import PROVIDER
from archiver.store.edits import pending_attachments, record_download
from archiver.store.filestore import FileStore
from archiver.timeutil import utc_now_iso

NO_BYTES = "the data export holds no file bytes"


def pending_rows(db: sqlite_utils.Database) -> list[tuple[str, str, str, str | None]]:
    """Claude attachment rows never tried or failed before, with their message's raw JSON."""
    return pending_attachments(db, PROVIDER)


def message_of(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _pasted_item(message: dict[str, Any], pointer: str) -> dict[str, Any]:
    index = pointer.removeprefix(PASTED)
    pasted = message.get("attachments")
    if index.isdigit() and isinstance(pasted, list) and int(index) < len(pasted):
        return as_dict(pasted[int(index)])
    return {}


def store_pasted(db: sqlite_utils.Database, store: FileStore) -> int:
    """Every pending pasted attachment's ``extracted_content`` into the store; files named
    without bytes marked ``skipped``. Returns how many pasted texts were stored."""
    now = utc_now_iso()
    stored_count = 0
    for conversation_id, node_id, pointer, raw in pending_rows(db):
        key = (conversation_id, node_id, pointer)
        if pointer.startswith(EXPORT_FILE):
            record_download(db, [key], SKIPPED, error=NO_BYTES, now=now)
            continue
        if not pointer.startswith(PASTED):
            continue
        content = _pasted_item(message_of(raw), pointer).get("extracted_content")
        if not isinstance(content, str):
            record_download(db, [key], SKIPPED, error="no extracted content", now=now)
            continue
        stored = store.put_bytes(content.encode("utf-8"))
        record_download(
            db,
            [key],
            STORED,
            sha256=stored.sha256,
            size=stored.size,
            mime_type="text/plain",
            now=now,
        )
        stored_count += 1
    return stored_count


__all__ = ["NO_BYTES", "message_of", "pending_rows", "store_pasted"]
