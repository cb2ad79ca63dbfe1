"""Copilot's images into the content-addressed file store beside the database.

Image parts carry a plain URL (``url``, else ``thumbnailUrl``), usually on an image host of
their own: it is fetched with no credential at all (the Copilot token belongs to the Copilot
host only). Candidates are attachment rows of Copilot messages whose pointer is the URL of an
image part (citations are URLs too, but pages, not files: they are marked ``skipped``). A file
already stored is never fetched again; a 404 is ``gone`` and not retried every night.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from archiver.backup.downloads import SKIPPED
from archiver.providers.copilot.flatten import image_urls
from archiver.providers.copilot.options import PROVIDER
from archiver.store.edits import AttachmentKey, pending_attachments, record_download
from archiver.timeutil import utc_now_iso


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


def images_to_fetch(db: sqlite_utils.Database) -> dict[str, list[AttachmentKey]]:
    """The pending images to download (``backup.public_files``: a refused request stops the
    phase); rows that point at no image (citations are pages) are marked skipped first."""
    images, others = pending_images(db)
    if others:
        record_download(db, others, SKIPPED, now=utc_now_iso())
    return images
