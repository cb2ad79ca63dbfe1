"""Copilot's images into the content-addressed file store beside the database.

Image parts carry a plain URL (``url``, else ``thumbnailUrl``), usually on an image host of
their own: it is fetched with no credential at all (the Copilot token belongs to the Copilot
host only). Candidates are attachment rows of Copilot messages whose pointer is the URL of an
image part (citations are URLs too, but pages, not files: they are marked ``skipped``). A file
already stored is never fetched again; a 404 is ``gone`` and not retried every night.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import sqlite_utils

from archiver.backup.downloads import (
    SKIPPED,
    DownloadSummary,
    each_until_stopped,
    into_store,
    recorder,
)
from archiver.flatten.records import as_str
from archiver.providers.copilot.flatten import PROVIDER, image_urls
from archiver.store.edits import AttachmentKey, pending_attachments, record_download
from archiver.store.filestore import FileStore, StoredFile
from archiver.timeutil import utc_now_iso
from archiver.transport.http import HttpClient

ImageSummary = DownloadSummary


def pending_images(db: sqlite_utils.Database) -> tuple[dict[str, list[AttachmentKey]], list[Any]]:
    """(image URL → the rows pointing at it, rows that point at no image) among Copilot
    attachments never tried or failed before."""
    images: dict[str, list[AttachmentKey]] = {}
    others: list[AttachmentKey] = []
    for conversation_id, node_id, pointer, raw in pending_attachments(db, PROVIDER):
        key = (conversation_id, node_id, pointer)
        try:
            message = json.loads(raw) if raw else {}
        except ValueError:
            message = {}
        if pointer in image_urls(message):
            images.setdefault(pointer, []).append(key)
        else:
            others.append(key)
    return images, others


async def download_images(
    db: sqlite_utils.Database,
    http: HttpClient,
    store: FileStore,
    *,
    max_bytes: int | None = None,
    concurrency: int = 2,
) -> ImageSummary:
    """Fetch every pending image (backup.downloads: several at once, an image host that stops
    answering given up on for the run); failures are recorded per image, a full disk or a
    refused request stops the phase (what was stored is kept)."""
    summary = ImageSummary()
    images, others = pending_images(db)
    if others:
        record_download(db, others, SKIPPED, now=utc_now_iso())

    async def one(image: tuple[str, list[AttachmentKey]]) -> None:
        await _download_one(db, http, store, *image, summary, max_bytes=max_bytes)

    await each_until_stopped(images.items(), one, summary, concurrency=concurrency, http=http)
    return summary


async def _download_one(
    db: sqlite_utils.Database,
    http: HttpClient,
    store: FileStore,
    url: str,
    keys: list[AttachmentKey],
    summary: ImageSummary,
    *,
    max_bytes: int | None,
) -> None:
    record = recorder(db, keys)
    if not url.startswith(("https://", "http://")):
        record(SKIPPED, error="not an http(s) URL")
        return

    async def consume(chunks: AsyncIterator[bytes]) -> StoredFile:
        return await store.put_async_chunks(chunks, max_bytes=max_bytes)

    async def download() -> StoredFile:
        return await http.request_stream("GET", url, consume, headers={"Accept": "image/*"})

    what = f"image {as_str(url.split('?')[0])}"
    await into_store(what, download, record, summary, noun="image")
