"""``run_batch``: every CSV row's prompt through one chat account, each answer recorded the
moment it completes, resumable after a kill at any point.

- The whole CSV is validated first (InputError names the lines; nothing is sent).
- Rows become ``batch_items`` of a new ``batch_runs`` row. Items already ``done`` (same key,
  prompt, provider and model) are never sent again; ``running`` ones (cut off by a kill) are.
- Work units are threads (rows sharing ``thread``, in file order, one conversation) and single
  rows. Units run concurrently up to ``concurrency``; a thread's turns run one after another
  and resume from its last done turn (its stored conversation and message ids).
- ONE RateLimiter for the account paces every request of every worker; a 429 pauses them all.
- A row's failure (after retries) fails that row and stops its thread; an account-level stop
  (quota, CAPTCHA, refused credentials, challenge page) stops the whole run, keeping what was
  recorded.
- A thread carries its first row's ``system`` instruction and its answered turns (``Thread``),
  for upstreams that are sent the whole exchange every turn; a provider that takes no system
  instruction refuses a CSV that gives one, before anything is sent.
- With ``batch_api`` the rows go through the provider's own batch endpoint instead, round by
  round (``remote_run.py``); the same records, the same resume rules.
- What an API's answer reports beside the text (tokens, the model that answered, the finish
  reason) is recorded with the row; with prices the summary adds up the cost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from archiver.batch import store
from archiver.batch.csvinput import BatchInput, read_batch_csv
from archiver.batch.remote_run import RemoteCounts, RemoteRun, Sleep
from archiver.batch.save_copy import record_answer, save_archive_copy
from archiver.batch.sender import (
    BatchProvider,
    CallStats,
    FailedAnswer,
    SenderFactory,
    SenderSetup,
    Thread,
    Turn,
    elapsed_ms,
    open_sender,
)
from archiver.batch.store import DONE, FAILED, PENDING, SUBMITTED, ItemState, token_cost
from archiver.cooldown import DEFAULT_MAX_COOLDOWN_WAIT, CooldownSkip, honour_cooldown
from archiver.errors import (
    EXIT_CONFIG,
    ArchiverError,
    AuthError,
    ChallengeError,
    ConfigError,
    InputError,
    QuotaExhausted,
    RateLimitExceeded,
    ThrottledUntil,
    UnreachableError,
    WrongEndpointError,
)
from archiver.progress import NullProgress, Progress
from archiver.store.runs import remember_throttle_stop
from archiver.store.sync import mark_deleted_upstream
from archiver.summary import RequestSummary
from archiver.transport.http import DEFAULT_MAX_WAIT, RetryPolicy, new_session
from archiver.transport.ratelimit import RateLimiter

log = logging.getLogger("archiver.batch")

# Failures that are the account's, not the row's: stop everything, leave the rows pending.
# Failures that stop the whole run: another row would fail the same way (429s beyond their
# retry budget included: the account is saturated).
ACCOUNT_STOPS = (
    AuthError,
    ChallengeError,
    QuotaExhausted,
    ConfigError,
    RateLimitExceeded,
    ThrottledUntil,
    UnreachableError,
    WrongEndpointError,  # a web page where the API should be: every row would get the same
)


@dataclass(frozen=True)
class BatchOptions:
    provider: str  # the provider's name (recorded with every row)
    model: str | None = None
    template: str | None = None
    max_rpm: float | None = 30.0
    burst: int = 1
    concurrency: int = 2
    max_attempts: int = 5
    retry_failed: bool = False
    cleanup: bool = False
    archive: bool = True  # also save the conversations into conversations/messages
    timeout_seconds: float = 300.0  # for an answer
    # The provider's own keys (its ``Sending.options``), handed to its sender.
    provider_values: Mapping[str, Any] = field(default_factory=dict)
    policy: RetryPolicy | None = None  # overrides max_attempts (tests use short backoffs)
    adaptive: bool = True
    max_wait: float = DEFAULT_MAX_WAIT  # the longest single throttle wait before stopping
    ignore_cooldown: bool = False  # send even while an earlier run left the account resting
    max_cooldown_wait: float = DEFAULT_MAX_COOLDOWN_WAIT  # wait out a rest this short
    # Through the provider's own batch endpoint (remote_run.py): submit, wait, collect.
    batch_api: bool = False
    detach: bool = False  # ... one pass: collect what is finished, submit what is ready
    poll_interval: float = 30.0  # seconds between two looks at a waiting batch
    # Per million tokens: with them the summary and the results give each answer's cost.
    price_in: float | None = None
    price_out: float | None = None

    def retry_policy(self) -> RetryPolicy:
        return self.policy or RetryPolicy(max_attempts=self.max_attempts, max_wait=self.max_wait)

    def prices(self) -> tuple[float, float] | None:
        """Per million tokens (in, out), when either is given (the other then costs 0)."""
        if self.price_in is None and self.price_out is None:
            return None
        return (self.price_in or 0.0, self.price_out or 0.0)

    def recorded(self) -> dict[str, Any]:
        """What goes into ``batch_runs.options_json`` (no secrets exist here)."""
        values = asdict(self)
        values.pop("policy", None)
        # Where credentials come from (a variable's name, a file's path) says nothing about
        # the run's answers: kept out of the record.
        values["provider_values"] = {
            key: value
            for key, value in self.provider_values.items()
            if not key.endswith(("_env", "_file"))
        }
        return values


@dataclass(kw_only=True)
class _Spending(RequestSummary):
    """What the summaries of a batch and of a collect share: rows recorded, tokens billed and
    what they cost."""

    done: int = 0  # answered in this run
    failed: int = 0  # failed in this run
    not_run: int = 0  # a provider-side batch ended (expired, cancelled) without running them
    prompt_tokens: int = 0  # billed for the answers of this run (failed ones included)
    completion_tokens: int = 0
    elapsed_seconds: float = 0.0
    prices: tuple[float, float] | None = None  # per million tokens, in and out
    # In counts() (what `archiver runs` lists) these follow the summary's own counters.
    TRAILING = (
        "done",
        "failed",
        "not_run",
        "prompt_tokens",
        "completion_tokens",
        *RequestSummary.TRAILING,
    )

    @property
    def cost(self) -> float | None:
        """What this run's tokens cost at ``prices``; None without prices."""
        if self.prices is None:
            return None
        return token_cost(self.prompt_tokens, self.completion_tokens, self.prices)

    def add_tokens(self, prompt_tokens: int | None, completion_tokens: int | None) -> None:
        self.prompt_tokens += prompt_tokens or 0
        self.completion_tokens += completion_tokens or 0

    def add_remote(self, counts: RemoteCounts, stats: CallStats) -> None:
        """What a provider-side run recorded (``remote_run.py``)."""
        self.done += counts.done
        self.failed += counts.failed
        self.not_run += counts.not_run
        self.add_tokens(counts.prompt_tokens, counts.completion_tokens)
        self.requests += stats.requests
        self.throttled += stats.throttled
        self.errors.extend(counts.errors)

    def spending_parts(self) -> list[str]:
        """The summary line's end: rows not run, tokens, cost (when there are any)."""
        parts = []
        if self.not_run:
            parts.append(f"cut short: {self.not_run} rows not run")
        if self.prompt_tokens or self.completion_tokens:
            parts.append(f"tokens in {self.prompt_tokens} out {self.completion_tokens}")
        if self.cost is not None:
            parts.append(f"cost {self.cost:.6f}")
        return parts


@dataclass
class BatchSummary(_Spending):
    run_id: int
    provider: str
    rows: int = 0
    already_done: int = 0  # skipped: answered by an earlier run
    skipped_failed: int = 0  # failed earlier, not retried (no --retry-failed)
    not_sent: int = 0  # left pending: blocked behind a failed turn, or the run stopped
    submitted: int = 0  # waiting in a provider-side batch when the run ended
    cleaned: int = 0

    @property
    def partial(self) -> bool:
        return bool(self.failed or self.skipped_failed or self.not_sent)

    @property
    def rate_per_minute(self) -> float:
        return 60.0 * self.requests / self.elapsed_seconds if self.elapsed_seconds else 0.0

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "done": self.done,
            "already_done": self.already_done,
            "failed": self.failed + self.skipped_failed,
            "not_sent": self.not_sent,
            "submitted": self.submitted,
            "not_run": self.not_run,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "requests": self.requests,
            "throttled": self.throttled,
            "cleaned": self.cleaned,
        }

    def line(self) -> str:
        parts = [
            f"run {self.run_id}",
            f"rows {self.rows}",
            f"done {self.done}",
            f"already done {self.already_done}",
            f"failed {self.failed + self.skipped_failed}",
            f"not sent {self.not_sent}",
            f"requests {self.requests}",
            f"throttled {self.throttled}",
            rate_text(self.requests, self.elapsed_seconds),
        ]
        if self.cleaned:
            parts.append(f"cleaned up {self.cleaned}")
        if self.submitted:
            parts.append(f"waiting in provider batches {self.submitted}")
        parts += self.spending_parts()
        return f"batch {self.provider}: " + ", ".join(parts)


@dataclass
class CollectSummary(_Spending):
    """``archiver batch DB --collect``: the open provider-side batches looked at once."""

    provider: str
    batches: int = 0  # open batches looked at
    waiting: int = 0  # still running upstream after this look

    @property
    def partial(self) -> bool:
        return bool(self.failed or self.not_run)

    def line(self) -> str:
        if not self.batches:
            return f"collect {self.provider}: no provider-side batch is waiting"
        parts = [
            f"batches {self.batches}",
            f"still waiting {self.waiting}",
            f"done {self.done}",
            f"failed {self.failed}",
            f"requests {self.requests}",
        ]
        return f"collect {self.provider}: " + ", ".join(parts + self.spending_parts())


# Fewer requests or a shorter time than this says nothing about a rate ("9691.9/min" after one).
MIN_RATE_REQUESTS = 2
MIN_RATE_SECONDS = 10.0


def rate_text(requests: int, seconds: float) -> str:
    """``12.3/min``, or ``rate n/a`` until enough requests and time have passed."""
    if requests < MIN_RATE_REQUESTS or seconds < MIN_RATE_SECONDS:
        return "rate n/a"
    return f"{60.0 * requests / seconds:.1f}/min"


@dataclass
class Unit:
    """One thread (or a single row): items in file order."""

    items: list[ItemState]

    @property
    def thread(self) -> str | None:
        return self.items[0].row.thread


def plan_units(items: Sequence[ItemState]) -> list[Unit]:
    """Group items into threads (file order of their first row) and single rows."""
    units: list[Unit] = []
    threads: dict[str, Unit] = {}
    for item in sorted(items, key=lambda i: i.row.row_number):
        thread = item.row.thread
        if thread is None:
            units.append(Unit([item]))
        elif thread in threads:
            threads[thread].items.append(item)
        else:
            threads[thread] = Unit([item])
            units.append(threads[thread])
    return units


@dataclass
class _Run:
    db: sqlite_utils.Database
    provider: BatchProvider
    options: BatchOptions
    summary: BatchSummary
    progress: Progress
    finished_threads: list[Thread] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def _describe(self) -> None:
        describe = getattr(self.progress, "describe", None)
        if describe is not None:
            s = self.summary
            rate = rate_text(s.done + s.failed, time.monotonic() - self.started)
            describe(f"done {s.done} failed {s.failed} {rate}")

    async def unit(self, unit: Unit) -> None:
        """A thread's turns in order; stops at its first failure."""
        thread = Thread(system=unit.items[0].row.system)
        sent_any = False
        for item in unit.items:
            if item.status == DONE:
                # Resume after the last done turn: its conversation and answer are the parent.
                if item.conversation_id != thread.conversation_id:
                    thread = Thread(
                        conversation_id=item.conversation_id,
                        system=thread.system,
                        history=thread.history,
                    )
                thread.parent_message_id = item.message_id
                thread.turns_done += 1
                thread.history.append(Turn(item.row.prompt, item.answer or ""))
                continue
            if item.status in (FAILED, SUBMITTED):
                # Failed earlier and not retried, or waiting in a provider-side batch: the
                # turns after it wait.
                return
            sent_any = True
            if not await self.item(thread, item):
                return
        if sent_any:
            self.finished_threads.append(thread)

    async def item(self, thread: Thread, item: ItemState) -> bool:
        """Send one row and record the outcome in its own transaction. True if answered."""
        store.mark_running(self.db, item.key)
        stats = CallStats()
        started = time.monotonic()
        try:
            answer = await self.provider.send(thread, item.row.prompt, item.key.model, stats)
        except ACCOUNT_STOPS:
            store.mark_pending(self.db, item.key, stats.requests)
            self._count(stats)
            raise
        except asyncio.CancelledError:
            store.mark_pending(self.db, item.key, stats.requests)
            self._count(stats)
            raise
        except ArchiverError as exc:
            facts = exc.facts if isinstance(exc, FailedAnswer) else None
            store.record_failed(
                self.db,
                item.key,
                error=str(exc),
                attempts=stats.requests,
                latency_ms=elapsed_ms(started),
                facts=facts,
            )
            if facts is not None:
                self.summary.add_tokens(facts.prompt_tokens, facts.completion_tokens)
            self._count(stats)
            self.summary.failed += 1
            self.summary.errors.append(f"line {item.row.line} ({item.row.key}): {exc}")
            self.progress.advance()
            self._describe()
            return False
        record_answer(
            self.db, item.key, answer, attempts=stats.requests, latency_ms=elapsed_ms(started)
        )
        thread.history.append(Turn(item.row.prompt, answer.text))
        self._count(stats)
        self.summary.add_tokens(answer.prompt_tokens, answer.completion_tokens)
        self.summary.done += 1
        if self.options.archive:
            # After the answer is recorded: a kill in between loses only the copy, which the
            # next ``backup`` fetches; never the answer, never a duplicate send.
            save_archive_copy(self.db, self.provider, thread, answer, log)
        self.progress.advance()
        self._describe()
        return True

    def _count(self, stats: CallStats) -> None:
        self.summary.requests += stats.requests
        self.summary.throttled += stats.throttled


def _pending(items: Sequence[ItemState]) -> int:
    return sum(1 for i in items if i.status == PENDING)


async def _run_units(run: _Run, units: list[Unit], concurrency: int) -> None:
    queue = iter(units)
    stop = asyncio.Event()

    async def worker() -> None:
        for unit in queue:  # the shared iterator hands each unit to exactly one worker
            if stop.is_set():
                return
            await run.unit(unit)

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                stop.set()
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_batch(
    db: sqlite_utils.Database,
    csv_path: str | Path,
    options: BatchOptions,
    settings: Any,
    progress: Progress | None = None,
    *,
    sending: SenderFactory,
    sleep: Sleep = asyncio.sleep,
) -> BatchSummary | CooldownSkip:
    """Run (or resume) a batch; see the module docstring. ``settings`` are the provider's
    (its account), ``sending`` opens its sender. Raises InputError before sending anything
    when the CSV is bad; returns a CooldownSkip, sending nothing, while the account rests
    after a cap. ``sleep`` waits between two looks at a provider-side batch."""
    progress = progress or NullProgress()
    batch_input = read_batch_csv(csv_path, template=options.template, default_model=options.model)
    _check_system(batch_input, sending, options.provider)
    if not options.ignore_cooldown:
        # After the CSV was checked: a bad file is reported even while the account rests.
        skip = await honour_cooldown(
            db, options.provider, settings.account, options.max_cooldown_wait, sending=True
        )
        if skip is not None:
            return skip
    settings = sending.with_state(db, settings)
    run_id = store.start_run(db, options.provider, options.model, batch_input, options.recorded())
    summary = BatchSummary(
        run_id, options.provider, rows=len(batch_input.rows), prices=options.prices()
    )
    items = store.claim_items(
        db, run_id, options.provider, batch_input.rows, retry_failed=options.retry_failed
    )
    summary.already_done = sum(1 for i in items if i.status == DONE)
    summary.skipped_failed = sum(1 for i in items if i.status == FAILED)
    status = "interrupted"
    started = time.monotonic()
    try:
        if options.batch_api:
            waiting = sum(1 for i in items if i.status in (PENDING, SUBMITTED))
            progress.start(waiting, f"Batch {options.provider} (batch API)")
            remote = _remote_run(db, sending, settings, options, summary, progress, sleep)
            await remote(lambda run: run.run(run_id, detach=options.detach))
        else:
            await _send_units(db, items, options, settings, summary, progress, sending)
        status = _conclude(db, run_id, options, settings.account, summary)
    finally:
        progress.finish()
        summary.elapsed_seconds = time.monotonic() - started
        store.finish_run(db, run_id, status)
    return summary


async def collect_batches(
    db: sqlite_utils.Database,
    options: BatchOptions,
    settings: Any,
    progress: Progress | None = None,
    *,
    sending: SenderFactory,
) -> CollectSummary:
    """``archiver batch DB --collect``: look once at every open provider-side batch of
    ``options.provider`` on ``settings``' server and record the finished ones. No CSV: what
    each row needs is in the database. Submits nothing."""
    from archiver.batch import remote_store

    progress = progress or NullProgress()
    summary = CollectSummary(options.provider, prices=options.prices())
    waiting = remote_store.open_batches(db, options.provider)
    summary.batches = len(waiting)
    if not waiting:
        return summary
    progress.start(sum(b.requests for b in waiting), f"Collect {options.provider}")
    started = time.monotonic()
    try:
        remote = _remote_run(db, sending, settings, options, summary, progress, asyncio.sleep)
        await remote(lambda run: run.collect())
    finally:
        progress.finish()
        summary.elapsed_seconds = time.monotonic() - started
    summary.waiting = len(remote_store.open_batches(db, options.provider))
    for run_id in {b.run_id for b in waiting}:
        store.settle_run(db, run_id)
    return summary


def _remote_run(
    db: sqlite_utils.Database,
    sending: SenderFactory,
    settings: Any,
    options: BatchOptions,
    summary: BatchSummary | CollectSummary,
    progress: Progress,
    sleep: Sleep,
) -> Callable[[Callable[[RemoteRun], Awaitable[None]]], Awaitable[None]]:
    """A runner of ``work`` over the provider's batch endpoint, on a session of its own; what
    it did goes into ``summary`` (an account-level stop too, as the stop of the run)."""

    async def run(work: Callable[[RemoteRun], Awaitable[None]]) -> None:
        limiter = RateLimiter(options.max_rpm, burst=options.burst, adaptive=options.adaptive)
        async with new_session(timeout_seconds=options.timeout_seconds) as session:
            setup = SenderSetup(session, limiter, options.retry_policy(), options.timeout_seconds)
            try:
                batches = sending.open_batches(setup, settings, options.provider_values)
                if batches is None:
                    raise ConfigError(
                        f"{options.provider} has no batch endpoint: run without --batch-api"
                    )
            except ArchiverError as exc:  # before anything was sent: the rows stay pending
                summary.abort(exc)
                return
            remote = RemoteRun(
                db,
                batches,
                options.provider,
                progress,
                archive=options.archive,
                poll_interval=options.poll_interval,
                sleep=sleep,
            )
            try:
                await work(remote)
            except ArchiverError as exc:
                # Submitting and polling are the run's, not a row's: any failure stops it (the
                # batches keep running upstream; the next run finds them).
                summary.abort(exc)
            finally:
                summary.add_remote(remote.counts, batches.stats)

    return run


def _check_system(batch_input: BatchInput, sending: SenderFactory, provider: str) -> None:
    if batch_input.has_system and not sending.takes_system:
        raise InputError(
            f"{batch_input.path}: the 'system' column gives instructions, which {provider} "
            "cannot send; empty the column or choose a provider that takes them; nothing was sent"
        )


async def _send_units(
    db: sqlite_utils.Database,
    items: Sequence[ItemState],
    options: BatchOptions,
    settings: Any,
    summary: BatchSummary,
    progress: Progress,
    sending: SenderFactory,
) -> None:
    """Every pending row through the provider's sender, threads in order (``_Run``)."""
    units = [u for u in plan_units(items) if any(i.status == PENDING for i in u.items)]
    limiter = RateLimiter(options.max_rpm, burst=options.burst, adaptive=options.adaptive)
    progress.start(sum(_pending(u.items) for u in units), f"Batch {options.provider}")
    async with open_sender(
        sending,
        settings,
        options.provider_values,
        limiter=limiter,
        policy=options.retry_policy(),
        timeout_seconds=options.timeout_seconds,
    ) as provider:
        run = _Run(db, provider, options, summary, progress)
        try:
            await _run_units(run, units, options.concurrency)
        except ACCOUNT_STOPS as exc:
            summary.abort(exc)
        if options.cleanup and summary.aborted is None:
            await _cleanup(db, provider, run.finished_threads, summary)


def _conclude(
    db: sqlite_utils.Database,
    run_id: int,
    options: BatchOptions,
    account: str,
    summary: BatchSummary,
) -> str:
    """Explain a stop, count what the database says is left, and name the run's status."""
    if isinstance(summary.aborted, UnreachableError):
        summary.errors.append(
            "the upstream is unreachable: the run stopped, the rows not sent stay pending; "
            "run the same command again when it is back"
        )
    if isinstance(summary.aborted, ThrottledUntil):
        remember_throttle_stop(db, options.provider, account, summary.aborted)
    # Whatever a stop left unsent is counted from the database: the truth after the run.
    summary.not_sent = _count_status(db, run_id, PENDING)
    summary.submitted = _count_status(db, run_id, SUBMITTED)
    if summary.failed or summary.skipped_failed:
        summary.errors.append(
            "rows that failed are not sent again by a plain re-run: add --retry-failed"
        )
    if summary.aborted is not None:
        return "failed" if summary.aborted.exit_code == EXIT_CONFIG else "partial"
    if summary.exit_code:
        return "partial"
    return store.SUBMITTED if summary.submitted else "done"


async def _cleanup(
    db: sqlite_utils.Database,
    provider: BatchProvider,
    threads: list[Thread],
    summary: BatchSummary,
) -> None:
    """Hide/delete upstream the conversations whose every turn is answered. The archived copy
    stays, marked ``deleted_upstream_at`` (never deleted here)."""
    for thread in threads:
        if thread.conversation_id is None:
            continue
        try:
            await provider.cleanup(thread)
        except ACCOUNT_STOPS as exc:
            summary.aborted = exc
            summary.errors.append(str(exc))
            return
        except ArchiverError as exc:
            summary.errors.append(f"cleanup of {thread.conversation_id}: {exc}")
            continue
        summary.cleaned += 1
        mark_deleted_upstream(db, thread.conversation_id)


def _count_status(db: sqlite_utils.Database, run_id: int, status: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM batch_items WHERE run_id = ? AND status = ?", [run_id, status]
    ).fetchone()
    return int(row[0])
