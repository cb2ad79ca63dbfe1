"""``archiver batch --batch-api``: a run's rows through the provider's own batch endpoint
(``remote.py``), and ``archiver batch DB --collect``.

- **Rounds.** A round is every pending row whose earlier turns (rows of its thread above it)
  are all answered: single rows and the first turn of each thread at first, then each next
  turn once the one before it has come back, with the answers so far sent as messages. A
  thread of N turns takes N batches, one after the other.
- **Batches.** A round's rows go into one batch per model, split where the provider's limits
  on requests and bytes per batch say. Rows are marked ``submitted`` with their batch row
  before anything is sent; the input file's id and the batch's id are committed the moment
  the server names them.
- **Resuming.** A re-run (or ``--collect``) finds the open batches of its rows and waits for
  them: it never uploads or creates a batch again for rows already in one. A batch a killed
  process left with nothing named upstream gives its rows back (they were never sent); one
  left with an uploaded input but no batch is created from that input, after looking for a
  batch the lost answer may have created.
- **Waiting.** The first poll comes soon after a batch is created, then one every
  ``poll_interval`` seconds; a poll that fails (after the transport's own retries) is tried
  again at the next one, and ``MAX_FAILED_POLLS`` in a row stop the run (it resumes later).
- **Outcomes.** Each result is recorded in its own transaction and archived like a sent turn;
  a row missing from a finished batch (expired, cancelled) was never run and goes back to
  ``pending`` for a later run (not this one: a batch that expired once would expire again);
  a batch refused as a whole stops the run with the server's reasons, its rows pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

import sqlite_utils

from archiver.batch import remote_store, store
from archiver.batch.remote import (
    FINISHED,
    REFUSED,
    Part,
    RemoteBatches,
    RemoteRequest,
    RemoteResult,
    RemoteStatus,
)
from archiver.batch.remote_store import BatchRow, StoredItem
from archiver.batch.save_copy import record_answer, save_archive_copy
from archiver.batch.sender import Thread, Turn
from archiver.batch.store import DONE, PENDING, AnswerFacts, ItemKey
from archiver.errors import ConfigError, TransientError, UnreachableError
from archiver.progress import Progress

log = logging.getLogger("archiver.batch")

FIRST_POLL = 2.0  # seconds after creating a batch (at most): a small batch may be done already
MAX_FAILED_POLLS = 5  # looks in a row that failed (after retries): the server is gone
Sleep = Callable[[float], Awaitable[None]]
Planned = tuple[StoredItem, RemoteRequest, bytes]  # a row, its request, its encoded line


class BatchRefused(ConfigError):
    """The provider refused a batch's input as a whole (validation): nothing in it ran."""


@dataclass
class RemoteCounts:
    """What a provider-side run did, for the batch summary."""

    done: int = 0
    failed: int = 0
    submitted: int = 0  # rows put into new batches by this run
    not_run: int = 0  # rows a finished batch never ran (expired, cancelled): pending again
    batches: int = 0  # batches created by this run
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class RemoteRun:
    db: sqlite_utils.Database
    remote: RemoteBatches
    provider: str
    progress: Progress
    archive: bool = True
    poll_interval: float = 30.0
    sleep: Sleep = asyncio.sleep
    counts: RemoteCounts = field(default_factory=RemoteCounts)
    _failed_polls: int = 0
    _not_run: set[ItemKey] = field(default_factory=set)  # released by a batch of this run

    # --- the loop ------------------------------------------------------------------------

    async def run(self, run_id: int, *, detach: bool) -> None:
        """Submit the run's rows round by round and wait for every batch (``detach``: one
        pass, collecting what is finished and submitting what is ready, then return)."""
        remote_store.abandon_unnamed(self.db, self.provider)
        while True:
            waiting = self._open(run_id)
            await self._finish_submitting(waiting)
            await self.poll(self._open(run_id))
            submitted = await self.submit_round(run_id)
            if detach or not self._open(run_id):
                return
            first = min(FIRST_POLL, self.poll_interval)
            await self.sleep(first if submitted else self.poll_interval)

    async def collect(self) -> None:
        """``--collect``: poll every open batch of this provider once, and record the
        finished ones. Submits nothing."""
        remote_store.abandon_unnamed(self.db, self.provider)
        await self._finish_submitting(self._open(None))
        await self.poll(self._open(None))

    def _open(self, run_id: int | None) -> list[BatchRow]:
        """The open batches (of ``run_id``'s rows; None: all) that live on this server."""
        rows = remote_store.open_batches(self.db, self.provider, run_id=run_id)
        return [row for row in rows if self._here(row)]

    def _here(self, row: BatchRow) -> bool:
        """A batch lives on one server: polled with this one's credentials only there."""
        if row.account == self.remote.account:
            return True
        message = (
            f"batch {row.batch_id or row.id} ({row.requests} rows) lives on {row.account}, not "
            f"{self.remote.account}: point the base URL there to collect it"
        )
        if message not in self.counts.errors:
            self.counts.errors.append(message)
        return False

    # --- submitting ----------------------------------------------------------------------

    async def submit_round(self, run_id: int) -> int:
        """Put every ready row of the run into new batches; returns how many rows."""
        items = remote_store.run_items(self.db, run_id)
        ready = [item for item in ready_rows(items) if item.key not in self._not_run]
        by_model: dict[str, list[Planned]] = {}
        for item in ready:
            request = RemoteRequest(
                item.key.item_key, item.key.model, item.prompt, thread_before(items, item)
            )
            line = self.remote.encode(request)
            if len(line) + 1 > self.remote.max_bytes:
                store.record_failed(
                    self.db,
                    item.key,
                    error=f"too large for one batch ({len(line)} bytes; the limit is "
                    f"{self.remote.max_bytes})",
                    attempts=0,
                    latency_ms=None,
                )
                self.counts.failed += 1
                continue
            by_model.setdefault(item.key.model, []).append((item, request, line))
        total = 0
        for model, rows in by_model.items():
            for part in split(rows, self.remote.max_requests, self.remote.max_bytes):
                await self._submit_new(run_id, model, part)
                total += len(part)
        self.counts.submitted += total
        return total

    async def _submit_new(self, run_id: int, model: str, rows: Sequence[Planned]) -> None:
        lines = [line for _, _, line in rows]
        batch = remote_store.create(
            self.db,
            provider=self.provider,
            account=self.remote.account,
            run_id=run_id,
            model=model,
            keys=[item.key for item, _, _ in rows],
            input_bytes=sum(len(line) + 1 for line in lines),
        )
        part = Part(model, lines, label=f"archiver-run{run_id}-batch{batch}")
        await self._submit(batch, part)
        self.counts.batches += 1

    async def _finish_submitting(self, rows: Sequence[BatchRow]) -> None:
        """Batches whose input was uploaded by a killed run but never became a batch."""
        for row in rows:
            if row.batch_id is None and row.input_file_id is not None:
                part = Part(row.model, (), label="", input_file_id=row.input_file_id)
                await self._submit(row.id, part)

    async def _submit(self, batch: int, part: Part) -> None:
        journal = _Journal(self.db, batch)
        try:
            status = await self.remote.submit(part, journal)
        except BaseException:
            if not journal.named:  # nothing exists upstream: the rows were never sent
                remote_store.close(self.db, batch, status=remote_store.ABANDONED)
            raise
        journal.batch(status)
        if status.state == REFUSED:
            self._refused(batch, status)

    # --- waiting and collecting ----------------------------------------------------------

    async def poll(self, rows: Sequence[BatchRow]) -> None:
        """Ask every open batch how it is once; record the finished ones."""
        texts = []
        failure: TransientError | None = None
        for row in rows:
            if row.batch_id is None:
                continue
            try:
                status = await self.remote.status(row.batch_id)
            except TransientError as exc:
                log.warning("polling batch %s failed: %s", row.batch_id, exc)
                failure = exc
                continue
            remote_store.record_status(self.db, row.id, status)
            if status.state == FINISHED:
                await self.collect_batch(row, status)
            elif status.state == REFUSED:
                self._refused(row.id, status)
            else:
                texts.append(status.progress_text())
        self._failed_polls = self._failed_polls + 1 if failure is not None else 0
        if failure is not None and self._failed_polls >= MAX_FAILED_POLLS:
            raise UnreachableError(
                f"{MAX_FAILED_POLLS} looks at the batches in a row failed ({failure}); they "
                "keep running upstream: run the same command again later"
            )
        describe = getattr(self.progress, "describe", None)
        if describe is not None and texts:
            describe("; ".join(texts))

    def _refused(self, batch: int, status: RemoteStatus) -> None:
        released = remote_store.close(self.db, batch)
        reasons = "; ".join(status.errors[:5]) or "no reason given"
        raise BatchRefused(
            f"batch {status.batch_id} was refused ({status.status}): {reasons}; its "
            f"{len(released)} rows stay pending"
        )

    async def collect_batch(self, row: BatchRow, status: RemoteStatus) -> None:
        waiting = remote_store.items_in(self.db, row.id)
        runs = {item.run_id: remote_store.run_items(self.db, item.run_id) for item in waiting}
        requests = {
            item.key.item_key: RemoteRequest(
                item.key.item_key,
                item.key.model,
                item.prompt,
                thread_before(runs[item.run_id], item),
            )
            for item in waiting
        }
        by_id = {item.key.item_key: item for item in waiting}
        for result in await self.remote.results(status, requests):
            item = by_id.pop(result.custom_id, None)
            if item is None:
                log.warning("batch %s: a result for unknown row %r", row.batch_id, result.custom_id)
                continue
            self._record(item, requests[result.custom_id], result)
        not_run = remote_store.close(self.db, row.id)
        if not_run:
            self._not_run.update(not_run)
            self.counts.not_run += len(not_run)
            self.counts.errors.append(
                f"batch {status.batch_id} {status.status}: {len(not_run)} rows not run (pending: "
                "run the same command again to send them)"
            )

    def _record(self, item: StoredItem, request: RemoteRequest, result: RemoteResult) -> None:
        answer = result.answer
        if answer is None:
            error = result.error or "no answer"
            store.record_failed(
                self.db, item.key, error=error, attempts=1, latency_ms=None, facts=result.facts
            )
            if result.facts is not None:
                self._tokens(result.facts)
            self.counts.failed += 1
            self.counts.errors.append(f"row {item.row_number} ({item.key.item_key}): {error}")
        else:
            record_answer(self.db, item.key, answer, attempts=1, latency_ms=None)
            self.counts.done += 1
            self._tokens(answer.facts())
            if self.archive:
                save_archive_copy(self.db, self.remote, request.thread, answer, log)
        self.progress.advance()

    def _tokens(self, facts: AnswerFacts) -> None:
        self.counts.prompt_tokens += facts.prompt_tokens or 0
        self.counts.completion_tokens += facts.completion_tokens or 0


class _Journal:
    """Commits each id the provider reports, at once."""

    def __init__(self, db: sqlite_utils.Database, batch: int):
        self.db = db
        self.row = batch
        self.named = False  # something exists upstream (an input, a batch)

    def input_file(self, file_id: str) -> None:
        self.named = True
        remote_store.record_input_file(self.db, self.row, file_id)

    def batch(self, status: RemoteStatus) -> None:
        self.named = True
        remote_store.record_status(self.db, self.row, status)


# --- planning (pure) ---------------------------------------------------------------------


def ready_rows(items: Sequence[StoredItem]) -> list[StoredItem]:
    """Pending rows whose earlier turns are all answered (``items``: a run's, input order)."""
    blocked: set[str] = set()  # threads with an unanswered turn above
    ready = []
    for item in items:
        if item.thread is not None and item.thread in blocked:
            continue
        if item.status == PENDING:
            ready.append(item)
        if item.thread is not None and item.status != DONE:
            blocked.add(item.thread)
    return ready


def thread_before(items: Sequence[StoredItem], item: StoredItem) -> Thread:
    """The conversation so far for ``item``: its thread's answered turns above it (their
    conversation, last answer, and prompts with answers) and its system instruction."""
    thread = Thread(system=item.system)
    if item.thread is None:
        return thread
    for earlier in items:
        if earlier.row_number >= item.row_number:
            break
        if earlier.thread != item.thread or earlier.status != DONE:
            continue
        thread.conversation_id = earlier.conversation_id
        thread.parent_message_id = earlier.message_id
        thread.turns_done += 1
        thread.history.append(Turn(earlier.prompt, earlier.answer or ""))
    return thread


def split(rows: Sequence[Planned], max_requests: int, max_bytes: int) -> Iterator[list[Planned]]:
    """Consecutive parts of at most ``max_requests`` rows and ``max_bytes`` bytes (each line
    and its newline)."""
    part: list[Planned] = []
    size = 0
    for row in rows:
        length = len(row[2]) + 1
        if part and (len(part) >= max_requests or size + length > max_bytes):
            yield part
            part, size = [], 0
        part.append(row)
        size += length
    if part:
        yield part
