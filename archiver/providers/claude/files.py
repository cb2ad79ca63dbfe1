"""Claude's files into the content-addressed store beside the database.

- Uploaded files and images (attachment rows keyed by ``file_uuid``): the bytes of the
  preview or the document the message names (``document_asset``, ``preview_asset``,
  ``preview_url``; never the thumbnail, a small rendition), else ``/api/{org}/files/{uuid}/
  preview``. One download per ``file_uuid`` however many messages show it; a file already
  stored is never fetched again; a 404 is recorded ``gone`` and not retried every night.
- Pasted attachments (``pasted:N``) carry their text in ``extracted_content``: it is stored as
  a file too (no request), so the attachment row has its sha256 like any other.

The cookie goes only to the configured host (``ClaudeSettings.headers_for``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlite_utils

from archiver.backup import downloads
from archiver.errors import AuthError, UpstreamError
from archiver.loosejson import as_dict, as_str
from archiver.providers.claude.flatten import EXPORT_FILE, PASTED, file_entries
from archiver.providers.claude.parse import is_session_refusal
from archiver.providers.claude.pasted import message_of, pending_rows
from archiver.store.edits import AttachmentKey, record_download, stored_copy
from archiver.store.filestore import FileStore, StoredFile
from archiver.timeutil import utc_now_iso

if TYPE_CHECKING:
    from archiver.providers.claude.client import ClaudeClient


@dataclass
class PendingFile:
    file_uuid: str
    entry: dict[str, Any]  # the message's file entry (its URLs)
    conversation_id: str
    rows: list[AttachmentKey] = field(default_factory=list)


@dataclass
class FileSummary(downloads.DownloadSummary):
    reused: int = 0  # already in the store under this uuid: not fetched again
    pasted: int = 0  # pasted attachments' text stored (pasted.store_pasted)


def pending_files(db: sqlite_utils.Database) -> list[PendingFile]:
    """Uploaded files not stored yet, once per ``file_uuid``."""
    pending: dict[str, PendingFile] = {}
    for conversation_id, node_id, pointer, raw in pending_rows(db):
        if pointer.startswith((PASTED, EXPORT_FILE)):
            continue
        entry = next(
            (
                e
                for e in file_entries(message_of(raw))
                if (as_str(e.get("file_uuid")) or as_str(e.get("uuid"))) == pointer
            ),
            {},
        )
        found = pending.setdefault(pointer, PendingFile(pointer, entry, conversation_id))
        if not found.entry and entry:
            found.entry = entry
        found.rows.append((conversation_id, node_id, pointer))
    return list(pending.values())


def download_urls(entry: Mapping[str, Any]) -> list[str]:
    """Where the file's bytes are, best first: the document, then the preview. Never the
    thumbnail (a small rendition of the same file)."""
    urls = [
        as_str(as_dict(entry.get("document_asset")).get("url")),
        as_str(entry.get("document_url")),
        as_str(as_dict(entry.get("preview_asset")).get("url")),
        as_str(entry.get("preview_url")),
    ]
    return list(dict.fromkeys(u for u in urls if u))


async def download_files(
    db: sqlite_utils.Database,
    client: ClaudeClient,
    store: FileStore,
    org_of: Mapping[str, str],
    *,
    max_bytes: int | None = None,
    summary: FileSummary | None = None,
    concurrency: int = 2,
) -> FileSummary:
    """Fetch every pending file (``org_of``: conversation → its organization, for files whose
    message names no URL), a few at once, a host that stops answering given up on for the
    run (backup.downloads). A full disk, a refused session or a challenge stops the phase;
    what was stored is kept."""
    found = summary or FileSummary()

    async def one(pending: PendingFile) -> None:
        await _download_one(db, client, store, pending, org_of, found, max_bytes)

    await downloads.each_until_stopped(
        pending_files(db), one, found, concurrency=concurrency, http=client.http
    )
    return found


def _fails_alone(exc: UpstreamError) -> bool:
    """A file refused (403) while the session is fine fails alone, like a 5xx."""
    if isinstance(exc, AuthError):
        return not is_session_refusal(exc)
    return downloads.fails_alone(exc)


async def _download_one(
    db: sqlite_utils.Database,
    client: ClaudeClient,
    store: FileStore,
    pending: PendingFile,
    org_of: Mapping[str, str],
    summary: FileSummary,
    max_bytes: int | None,
) -> None:
    record = downloads.recorder(db, pending.rows)
    known = stored_copy(db, [pending.file_uuid])
    if known is not None and store.has(known[0]):
        record_download(
            db, pending.rows, downloads.STORED, sha256=known[0], size=known[1], now=utc_now_iso()
        )
        summary.reused += 1
        return
    urls = download_urls(pending.entry)
    org = org_of.get(pending.conversation_id)
    if not urls and org:
        urls = [f"/api/{org}/files/{pending.file_uuid}/preview"]
    if not urls:
        record(downloads.SKIPPED, error="no download URL, and its conversation is no longer listed")
        return
    url = client.settings.absolute(urls[0])

    async def consume(chunks: AsyncIterator[bytes]) -> StoredFile:
        return await store.put_async_chunks(chunks, max_bytes=max_bytes)

    async def download() -> StoredFile:
        return await client.stream("GET", url, consume, headers=client.settings.headers_for(url))

    await downloads.into_store(
        f"file {pending.file_uuid}", download, record, summary, alone=_fails_alone
    )


__all__ = ["FileSummary", "download_files", "download_urls", "pending_files"]
