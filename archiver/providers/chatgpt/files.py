"""Download the files messages point at into the content-addressed store beside the database.

Every attachment row whose file was never tried (``download_status`` NULL) or failed before is a
candidate; rows naming the same file id (a ``file-service://`` part and its
``metadata.attachments`` entry, or the same image in two chats) are fetched once. A file whose
bytes are already stored is never fetched again; one upstream says is gone (404) is marked
``gone`` and not retried every night.

Per file: ``GET files/download/{id}?conversation_id=&inline=false`` (then the older
``files/{id}/download``) answers a ``download_url``; the bytes are streamed from it into
``FileStore`` (temp name, fsync, rename). The URL is on the same host in 2026 and needs the
bearer token; a URL on another host is signed and gets no token (ChatGPTHttp enforces it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from archiver.backup.downloads import STORED, DownloadSummary, each_until_stopped, into_store
from archiver.errors import AuthError, NotFoundError, UpstreamError
from archiver.loosejson import as_dict, as_str
from archiver.providers.chatgpt.client import ChatGPTClient
from archiver.providers.chatgpt.options import PROVIDER
from archiver.store.edits import pending_attachments, record_download, stored_copy
from archiver.store.filestore import FileStore, FileTooLarge, StoredFile
from archiver.timeutil import utc_now_iso

log = logging.getLogger("archiver.chatgpt.files")

STREAM_DENIED = "File stream access denied"


def file_id_of(pointer: str) -> str | None:
    """``file-service://file-X`` → ``file-X``; ``sediment://file_0…`` → ``file_0…``; a bare
    ``metadata.attachments`` id is its own file id. Anything else is not downloadable here."""
    ident = pointer.split("://", 1)[1] if "://" in pointer else pointer
    ident = ident.strip()
    if not ident.startswith(("file-", "file_")) or "/" in ident or "?" in ident:
        return None
    return ident


@dataclass
class PendingFile:
    file_id: str
    conversation_id: str  # one conversation that points at it (the download endpoint wants one)
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # attachments primary keys


@dataclass
class FileSummary(DownloadSummary):
    pointed: int = 0  # distinct file ids pointed at by chatgpt messages, ever
    reused: int = 0  # already in the store: not fetched again


def pending_files(db: sqlite_utils.Database) -> list[PendingFile]:
    """Files not yet stored and worth trying: never tried, or failed before."""
    pending: dict[str, PendingFile] = {}
    for conversation_id, node_id, pointer, _ in pending_attachments(db, PROVIDER):
        file_id = file_id_of(pointer)
        if file_id is None:
            continue
        entry = pending.setdefault(file_id, PendingFile(file_id, conversation_id))
        entry.rows.append((conversation_id, node_id, pointer))
    return list(pending.values())


def count_pointers(db: sqlite_utils.Database) -> int:
    rows = db.execute(
        "SELECT DISTINCT a.asset_pointer FROM attachments AS a JOIN conversations AS c "
        "ON c.id = a.conversation_id AND c.provider = 'chatgpt'"
    ).fetchall()
    return len({f for (p,) in rows if (f := file_id_of(p)) is not None})


def _known_copy(db: sqlite_utils.Database, file_id: str) -> tuple[str, int | None] | None:
    """The stored sha256 of this file id under any pointer spelling, if one row has it."""
    return stored_copy(db, (file_id, f"file-service://{file_id}", f"sediment://{file_id}"))


def _record(
    db: sqlite_utils.Database,
    pending: PendingFile,
    status: str,
    *,
    stored: StoredFile | None = None,
    sha256: str | None = None,
    size: int | None = None,
    meta: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    meta = meta or {}
    record_download(
        db,
        pending.rows,
        status,
        sha256=stored.sha256 if stored else sha256,
        size=stored.size if stored else size,
        file_name=as_str(meta.get("file_name")),
        mime_type=as_str(meta.get("mime_type")),
        error=error,
        now=utc_now_iso(),
    )


async def _file_meta(client: ChatGPTClient, pending: PendingFile) -> dict[str, Any]:
    """The download answer; NotFoundError when both routes say 404 (the file is gone)."""
    params = {"conversation_id": pending.conversation_id, "inline": "false"}
    try:
        return as_dict(await client.get_json(f"files/download/{pending.file_id}", params))
    except NotFoundError:
        return as_dict(await client.get_json(f"files/{pending.file_id}/download"))


async def download_one(
    db: sqlite_utils.Database,
    client: ChatGPTClient,
    store: FileStore,
    pending: PendingFile,
    summary: FileSummary,
    *,
    max_bytes: int | None,
) -> None:
    known = _known_copy(db, pending.file_id)
    if known is not None and store.has(known[0]):
        _record(db, pending, STORED, sha256=known[0], size=known[1])
        summary.reused += 1
        return
    meta: dict[str, Any] = {}

    async def fetch() -> StoredFile:
        meta.update(await _file_meta(client, pending))
        url = as_str(meta.get("download_url"))
        if not url:
            raise UpstreamError(f"files/download/{pending.file_id} answered no download_url")
        announced = meta.get("file_size_bytes")
        if max_bytes is not None and isinstance(announced, int) and announced > max_bytes:
            raise FileTooLarge(max_bytes, announced)

        async def consume(chunks: AsyncIterator[bytes]) -> StoredFile:
            return await store.put_async_chunks(chunks, max_bytes=max_bytes)

        try:
            return await client.http.request_stream(
                "GET", url, consume, headers=client.settings.headers_for(url)
            )
        except AuthError as exc:
            if exc.status != 403:
                raise  # the sign-in itself was refused: the run stops
            # This file's stream only (2026: estuary/content): failed, tried again next run.
            raise UpstreamError(f"{STREAM_DENIED.lower()} (403)", status=403) from None

    def record(status: str, stored: StoredFile | None = None, error: str | None = None) -> None:
        _record(db, pending, status, stored=stored, meta=meta, error=error)

    await into_store(pending.file_id, fetch, record, summary)


async def download_files(
    db: sqlite_utils.Database,
    client: ChatGPTClient,
    store: FileStore,
    *,
    max_bytes: int | None = None,
    concurrency: int = 2,
) -> FileSummary:
    """Fetch every pending file (backup.downloads: several at once, a host that stops
    answering given up on for the run); failures are recorded per file, a full disk or a
    refused sign-in stops the phase (what was stored is kept)."""
    summary = FileSummary()

    async def one(pending: PendingFile) -> None:
        await download_one(db, client, store, pending, summary, max_bytes=max_bytes)

    await each_until_stopped(
        pending_files(db), one, summary, concurrency=concurrency, http=client.http
    )
    summary.pointed = count_pointers(db)
    return summary
