"""The images Gemini's answers show (web and generated images), into the content-addressed file
store beside the database.

They are fetched with no credential at all: the Gemini cookie belongs to the Gemini host only,
and this phase runs on an HttpClient of its own that never holds it. An image its host refuses
(401 or 403: some generated images want a signed-in browser) fails alone, with its reason, and
is tried again on the next run; so does one whose host stopped answering (``deferred``). A 404
is ``gone`` and not retried. An image already stored (under this URL, by another chat) is not
fetched again. Attachment rows that are not images the answers show (a Takeout's uploads,
``takeout://``) are the Takeout import's, and left as they are.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
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
from archiver.errors import AuthError, ChallengeError, UpstreamError
from archiver.providers.gemini import parse
from archiver.providers.gemini.options import PROVIDER
from archiver.query.blocks import as_dict
from archiver.store.edits import AttachmentKey, pending_attachments, stored_copy
from archiver.store.filestore import FileStore, StoredFile
from archiver.transport.http import HttpClient


def pending_images(db: sqlite_utils.Database) -> dict[str, list[AttachmentKey]]:
    """Image URL → the attachment rows pointing at it, among Gemini's rows never tried or
    failed before whose message (a response candidate) shows that image."""
    images: dict[str, list[AttachmentKey]] = {}
    for conversation_id, node_id, pointer, raw in pending_attachments(db, PROVIDER):
        try:
            message = as_dict(json.loads(raw)) if raw else {}
        except ValueError:
            message = {}
        if pointer in parse.candidate_images(message.get("candidate")):
            images.setdefault(pointer, []).append((conversation_id, node_id, pointer))
    return images


def image_fails_alone(exc: UpstreamError) -> bool:
    """An image host is sent no credential, so its refusal (401, 403, or a 403 page) says
    nothing about the account: that image fails alone, as a 5xx does."""
    if isinstance(exc, AuthError | ChallengeError) and exc.status in (401, 403):
        return True
    return fails_alone(exc)


async def download_images(
    db: sqlite_utils.Database,
    http: HttpClient,
    store: FileStore,
    *,
    max_bytes: int | None = None,
    concurrency: int = 2,
) -> DownloadSummary:
    """Fetch every pending image (backup.downloads: several at once, an image host that stops
    answering given up on for the run); failures are recorded per image, a full disk stops
    the phase (what was stored is kept)."""
    summary = DownloadSummary()

    async def one(image: tuple[str, list[AttachmentKey]]) -> None:
        await _download_one(db, http, store, *image, summary, max_bytes=max_bytes)

    images = pending_images(db)
    await each_until_stopped(images.items(), one, summary, concurrency=concurrency, http=http)
    return summary


async def _download_one(
    db: sqlite_utils.Database,
    http: HttpClient,
    store: FileStore,
    url: str,
    keys: list[AttachmentKey],
    summary: DownloadSummary,
    *,
    max_bytes: int | None,
) -> None:
    record = recorder(db, keys)
    if not url.startswith(("https://", "http://")):
        record(SKIPPED, error="not an http(s) URL")
        return
    known = stored_copy(db, [url])
    if known is not None and store.has(known[0]):  # another chat's copy: nothing to fetch
        sha256, size = known
        record(STORED, StoredFile(sha256, size or 0, store.path_for(sha256)))
        return

    async def consume(chunks: AsyncIterator[bytes]) -> StoredFile:
        return await store.put_async_chunks(chunks, max_bytes=max_bytes)

    async def download() -> StoredFile:
        return await http.request_stream("GET", url, consume, headers={"Accept": "image/*"})

    parts = urlsplit(url)
    what = f"image {parts.netloc}{parts.path}"  # no query string: it may carry a signature
    await into_store(what, download, record, summary, noun="image", alone=image_fails_alone)
