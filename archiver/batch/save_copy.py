"""Record a sent turn: its answer on its batch row (``record_answer``: the runner and the
provider-side batches), and the archive copy of its conversation (the batch runner and the
gateway do it the same way)."""

from __future__ import annotations

import logging

import sqlite_utils

from archiver.batch import store
from archiver.batch.sender import Answer, ArchiveCopier, Thread
from archiver.batch.store import ItemKey
from archiver.store.save import save_conversation


def save_archive_copy(
    db: sqlite_utils.Database,
    provider: ArchiveCopier,
    thread: Thread,
    answer: Answer,
    log: logging.Logger,
    *,
    source: str | None = None,
) -> None:
    """The conversation so far (the archived nodes plus this answer) saved, ``source`` set when
    given. A malformed answer is logged on ``log`` (the caller's), never raised: the answer's
    own record is what matters, and the next ``backup`` fetches the conversation anyway."""
    if answer.conversation_id is None:
        return
    try:
        existing = store.conversation_nodes(db, answer.conversation_id)
        header = store.conversation_header(db, answer.conversation_id)
        flat = provider.archive_copy(thread, answer, existing, header)
        if source is not None:
            flat.conversation["source"] = source
        save_conversation(db, flat)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("could not archive conversation %s: %s", answer.conversation_id, exc)


def record_answer(
    db: sqlite_utils.Database,
    key: ItemKey,
    answer: Answer,
    *,
    attempts: int,
    latency_ms: int | None,
) -> None:
    """The row is done: its answer, where it lives upstream and what the answer reported."""
    store.record_done(
        db,
        key,
        answer=answer.text,
        conversation_id=answer.conversation_id,
        message_id=answer.message_id,
        attempts=attempts,
        latency_ms=latency_ms,
        throttling=answer.throttling,
        facts=answer.facts(),
    )
