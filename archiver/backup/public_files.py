"""Files on hosts that take no credential (Copilot's image CDN, the images Gemini's answers
show): downloaded after the backup, on an HttpClient of their own that never holds the
account's secret (a token goes only to its own host), at the file hosts' own pace.

A provider says which attachment rows point at such a file (``pending``: URL → the rows);
the rest is the same for every one: an http(s) URL only, a file another row already stored is
not fetched again, the query string (it may carry a signature) is kept out of error lines,
and each outcome is recorded by ``backup.downloads``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from urllib.parse import urlsplit

import sqlite_utils

from archiver.backup.downloads import (
    SKIPPED,
    STORED,
    DownloadSummary,
    each_until_stopped,
    fails_alone,
    into_store,
    recorder,
)
from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.backup.options import BackupRun
from archiver.errors import UpstreamError
from archiver.store.edits import AttachmentKey, stored_copy
from archiver.store.filestore import FileStore, StoredFile, store_beside
from archiver.transport.http import HttpClient
from archiver.transport.pace import ClientPace, paced_http

PendingFiles = Mapping[str, list[AttachmentKey]]


async def download_public_files(
    db: sqlite_utils.Database,
    http: HttpClient,
    store: FileStore,
    files: PendingFiles,
    *,
    max_bytes: int | None = None,
    concurrency: int = 2,
    noun: str = "image",
    alone: Callable[[UpstreamError], bool] = fails_alone,
) -> DownloadSummary:
    """Fetch every URL of ``files`` (several at once; a host that stops answering is given up
    on for the run). Failures are recorded per file; ``alone`` says which upstream errors fail
    one file only (the others stop the phase, as a full disk does); what was stored is kept."""
    summary = DownloadSummary()

    async def one(file: tuple[str, list[AttachmentKey]]) -> None:
        url, keys = file
        record = recorder(db, keys)
        if not url.startswith(("https://", "http://")):
            record(SKIPPED, error="not an http(s) URL")
            return
        known = stored_copy(db, [url])
        if known is not None and store.has(known[0]):  # another row's copy: nothing to fetch
            sha256, size = known
            record(STORED, StoredFile(sha256, size or 0, store.path_for(sha256)))
            return

        async def consume(chunks: AsyncIterator[bytes]) -> StoredFile:
            return await store.put_async_chunks(chunks, max_bytes=max_bytes)

        async def download() -> StoredFile:
            return await http.request_stream("GET", url, consume, headers={"Accept": "image/*"})

        parts = urlsplit(url)
        what = f"{noun} {parts.netloc}{parts.path}"
        await into_store(what, download, record, summary, noun=noun, alone=alone)

    await each_until_stopped(files.items(), one, summary, concurrency=concurrency, http=http)
    return summary


def files_rpm(pace: ClientPace, rpm: float) -> float | None:
    """The files' own pace: ``rpm``, lifted (never lowered) by a faster account pace; none
    when the account's run is unpaced (tests against the local emulator)."""
    return None if pace.max_rpm is None else max(rpm, pace.max_rpm)


async def after_backup(
    db: sqlite_utils.Database,
    summary: BackupSummary,
    pending: Callable[[sqlite_utils.Database], PendingFiles],
    run: BackupRun,
    *,
    rpm: float,
    alone: Callable[[UpstreamError], bool] = fails_alone,
    counted_as: str = "images",
) -> BackupSummary:
    """Download what ``pending`` says once the backup is done (unless ``run.files`` says not
    to, the run stopped early or the database has no file store), on a client of its own with
    the account's retry policy and timeout at the files' pace (``files_rpm``). ``alone`` says
    which upstream errors fail one file only. The counts join the summary as
    ``<counted_as>_*``; failed or deferred files make the run partial and are retried next
    time."""
    files = run.files
    store = files.store or store_beside(db)
    if not files.download or summary.aborted is not None or store is None:
        return summary
    concurrency = (run.options or BackupOptions()).concurrency
    pace = replace(run.pace, max_rpm=files_rpm(run.pace, rpm), burst=1)
    async with paced_http(pace, HttpClient) as http:
        downloaded = await download_public_files(
            db,
            http,
            store,
            pending(db),
            max_bytes=files.max_bytes,
            concurrency=concurrency,
            alone=alone,
        )
    downloaded.report_into(summary, counted_as)
    return summary
