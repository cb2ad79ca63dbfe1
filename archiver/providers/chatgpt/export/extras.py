"""The export's other files, after its conversations: every JSON file that is not a
conversations file is kept whole (``export_files``: name, sha256, content), and the ones with a
meaning also land where they belong:

- ``shared_conversations.json`` → ``shared_links`` (added and filled in, never marked deleted:
  an export is a snapshot, the live audit decides what is gone);
- ``textdocs/`` (canvas documents) → ``textdocs``, every version, as the live backup stores
  them (``conversation_id`` from the document, else from its file or folder name);
- ``message_feedback.json`` → ``message_feedback``, linked to the archived message it names.

``chat.html`` (a rendering of the same data, often 100 MB+) is recorded by name and size only.
A file over the size limit, or one that is not JSON, is recorded with why, and reported (exit
3). The shapes of these files are not documented: the parsing below is pure and tolerant
(unknown shapes are still archived whole in ``export_files``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import sqlite_utils

from archiver.importer.files import FileEntry
from archiver.importer.keep import NOT_JSON, keep_files
from archiver.loosejson import as_dict, as_str
from archiver.providers.chatgpt.account_parse import SharedLink, parse_shared_page
from archiver.store.extras import Feedback, save_exported_shared_links, save_feedback
from archiver.store.textdocs import save_textdocs
from archiver.timeutil import to_iso

CHAT_HTML = "chat.html"
SHARED = "shared_conversations.json"
FEEDBACK = "message_feedback.json"
TEXTDOCS = "textdocs"
_BOM = b"\xef\xbb\xbf"


@dataclass
class ExtrasResults:
    files: int = 0  # export files archived (new name or content)
    shared_links: int = 0  # new shared links
    textdocs: int = 0  # new canvas document versions
    feedback: int = 0  # new feedback entries
    feedback_linked: int = 0
    errors: list[str] = field(default_factory=list)


def is_textdoc(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return TEXTDOCS in parts[:-1]


def archive_extras(
    db: sqlite_utils.Database, extras: list[FileEntry], *, max_bytes: int
) -> ExtrasResults:
    results = ExtrasResults()

    def land(db: sqlite_utils.Database, name: str, value: Any, text: str | None) -> None:
        base = PurePosixPath(name).name.lower()
        if base == SHARED:
            links = shared_links_of(value)
            results.shared_links += save_exported_shared_links(db, "", links)
        elif base == FEEDBACK:
            new, linked = save_feedback(db, list(feedback_of(value)))
            results.feedback += new
            results.feedback_linked += linked
        elif is_textdoc(name):
            for conversation_id, docs in textdocs_of(name, value, text).items():
                results.textdocs += save_textdocs(db, conversation_id, docs)

    kept = keep_files(
        db,
        extras,
        max_bytes=max_bytes,
        land=land,
        text_ok=is_textdoc,
        name_only=lambda name: "html" if PurePosixPath(name).name.lower() == CHAT_HTML else None,
    )
    results.files = kept.files
    results.errors = kept.errors
    return results


# -- parsing (pure) -----------------------------------------------------------------------------


def _items(value: Any, *keys: str) -> list[Any]:
    """A bare list, or the first list under one of ``keys`` of an object."""
    if isinstance(value, list):
        return value
    for key in keys:
        inner = as_dict(value).get(key)
        if isinstance(inner, list):
            return inner
    return []


def shared_links_of(value: Any) -> list[SharedLink]:
    """``shared_conversations.json``: the items of the live list (a bare list, or wrapped)."""
    return parse_shared_page({"items": _items(value, "items", "shared_conversations")})


def _feedback_text(raw: dict[str, Any]) -> str | None:
    content = raw.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return content or None
    content = as_dict(content)
    return as_str(content.get("text")) or as_str(raw.get("text"))


def feedback_of(value: Any) -> Iterator[Feedback]:
    """``message_feedback.json``: entries naming a conversation and a message (``message_id``,
    or, in older exports, the entry's own ``id``), a rating and sometimes what the user wrote."""
    for raw in _items(value, "items", "feedback", "message_feedback"):
        if not isinstance(raw, dict):
            continue
        ident = as_str(raw.get("id"))
        message_id = as_str(raw.get("message_id")) or ident
        conversation_id = as_str(raw.get("conversation_id"))
        if ident is None:
            ident = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:32]
        rating = raw.get("rating")
        yield Feedback(
            id=ident,
            conversation_id=conversation_id,
            message_id=message_id,
            rating=str(rating) if isinstance(rating, str | int) else None,
            text=_feedback_text(raw),
            create_time=to_iso(raw.get("create_time")),
            raw=raw,
        )


def _conversation_of_path(name: str) -> str:
    """``textdocs/<conversation id>/<doc>.json`` or ``textdocs/<conversation id>.json``."""
    parts = PurePosixPath(name).parts
    after = parts[parts.index(TEXTDOCS) + 1 :]
    if len(after) >= 2:
        return after[0]
    return PurePosixPath(after[0]).stem if after else ""


def textdocs_of(name: str, value: Any, text: str | None) -> dict[str, list[dict[str, Any]]]:
    """Canvas documents of one ``textdocs/`` file, by conversation: a list of documents (as
    ``conversation/{id}/textdocs`` answers), a wrapped list, one document, or plain text (a
    document whose id is the file's name)."""
    fallback = _conversation_of_path(name)
    if value is NOT_JSON:
        stem = PurePosixPath(name).stem
        docs: list[Any] = [{"id": stem, "version": 0, "title": stem, "content": text}]
    elif isinstance(value, dict) and as_str(value.get("id")) and "content" in value:
        docs = [value]
    else:
        docs = _items(value, "textdocs", "items", "documents")
    by_conversation: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        if not isinstance(doc, dict) or not as_str(doc.get("id")):
            continue
        conversation_id = as_str(doc.get("conversation_id")) or fallback
        by_conversation.setdefault(conversation_id, []).append(doc)
    return by_conversation
