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

import sqlite_utils

from archiver.backup.downloads import fails_alone
from archiver.errors import AuthError, ChallengeError, UpstreamError
from archiver.loosejson import as_dict
from archiver.providers.gemini import parse
from archiver.providers.gemini.options import PROVIDER
from archiver.store.edits import AttachmentKey, pending_attachments


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
