"""Provider-side batches, as the engine sees them: what a provider's batch endpoint must do
(``RemoteBatches``) and the values that cross between the two. No I/O here.

A provider-side batch (OpenAI's Batch API, Anthropic's Message Batches, Gemini's batch mode)
takes many requests at once and answers them within hours, for less. The engine
(``remote_run.py``) decides what goes into which batch, records every id the server returns
the moment it returns it, waits, and records each row's outcome; the provider only speaks the
wire. ``Sending.open_batches`` opens one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from archiver.batch.sender import Answer, ArchiveCopier, CallStats, Thread
from archiver.batch.store import AnswerFacts

# What the engine makes of a provider's status word.
WAITING = "waiting"  # still running upstream: poll again later
FINISHED = "finished"  # over, results readable (completed, expired, cancelled: some may be)
REFUSED = "refused"  # the input was refused as a whole (validation): nothing ran


@dataclass(frozen=True)
class RemoteRequest:
    """One row as it goes into a batch: ``custom_id`` finds its result again (results come
    back in any order), ``thread`` carries the system instruction and the earlier turns."""

    custom_id: str
    model: str
    prompt: str
    thread: Thread


@dataclass(frozen=True)
class Part:
    """One batch to submit: the encoded requests of one model, within the provider's limits.
    ``input_file_id`` is set when an earlier try already uploaded them."""

    model: str
    lines: Sequence[bytes]
    label: str  # names the input (a file name stem): which archive run and part it is
    input_file_id: str | None = None


@dataclass(frozen=True)
class RemoteStatus:
    """A batch as the server last described it."""

    batch_id: str
    status: str  # the provider's own word ("in_progress", "expired", ...)
    state: str  # WAITING, FINISHED or REFUSED
    total: int = 0
    completed: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()  # REFUSED: why, as the server said
    raw: Mapping[str, Any] = field(default_factory=dict)

    def progress_text(self) -> str:
        return f"{self.status} {self.completed + self.failed}/{self.total} (failed {self.failed})"


@dataclass(frozen=True)
class RemoteResult:
    """One row's outcome: an answer, or the error it failed with (``facts``: what a failed
    answer still said, its tokens)."""

    custom_id: str
    answer: Answer | None = None
    error: str | None = None
    facts: AnswerFacts | None = None


class Journal(Protocol):
    """Where a provider reports each id the moment the server names it (the engine commits it
    at once: a kill right after must find it)."""

    def input_file(self, file_id: str) -> None: ...

    def batch(self, status: RemoteStatus) -> None: ...


class RemoteBatches(ArchiveCopier, Protocol):
    """A provider's batch endpoint. ``account`` is the server the batches live on: a batch is
    only ever polled and collected there."""

    name: str
    account: str
    max_requests: int  # requests one batch may hold
    max_bytes: int  # bytes its input may have (lines and their newlines)
    stats: CallStats  # HTTP requests made (and throttled) so far, for the summary

    def encode(self, request: RemoteRequest) -> bytes:
        """The request as one line of a batch's input (pure; no newline)."""

    async def submit(self, part: Part, journal: Journal) -> RemoteStatus:
        """Upload (unless ``part.input_file_id`` says it was) and create the batch, telling
        ``journal`` each id as it exists. After a create whose answer was lost, find the batch
        made from the same input rather than create a second one."""

    async def status(self, batch_id: str) -> RemoteStatus:
        """The batch now (a GET: safe to repeat)."""

    async def results(
        self, status: RemoteStatus, requests: Mapping[str, RemoteRequest]
    ) -> list[RemoteResult]:
        """Every row's outcome a FINISHED batch holds, matched by custom_id (a row missing
        from them never ran). Each answer is built as ``send`` builds one for ``thread``."""


__all__ = [
    "FINISHED",
    "REFUSED",
    "WAITING",
    "Journal",
    "Part",
    "RemoteBatches",
    "RemoteRequest",
    "RemoteResult",
    "RemoteStatus",
]
