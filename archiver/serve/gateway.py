"""One chat account behind the gateway: every upstream call of every client goes through it.

- ONE sender (hence one RateLimiter, one retry policy) per account, shared by all clients.
- A bounded queue: at most ``concurrency`` answers in flight upstream and ``max_queue`` more
  waiting. Past that a request is refused at once (``GatewayBusy``: a 429 that says the limit is
  the gateway's), instead of piling up behind an account that can only go so fast.
- An upstream throttle or cap is ``UpstreamThrottled`` (a 429 that says it is the account's,
  with when it clears); while the account rests, new requests are refused without calling it.
  A cap is remembered in ``cooldowns`` like the batch and backup runs do.
- Each answer is produced by a task of its own, and the request handler only waits on it
  through ``asyncio.shield``: a client that disconnects mid-answer cancels its handler, not the
  answer, which is archived anyway (``client_gone`` in ``gateway_exchanges``).
- ``close`` (graceful shutdown) refuses new work and waits for the answers in flight.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlite_utils

from archiver.batch.save_copy import save_archive_copy
from archiver.batch.sender import Answer, BatchProvider, CallStats, OnText, Thread, elapsed_ms
from archiver.errors import (
    ArchiverError,
    ChallengeError,
    NotFoundError,
    QuotaExhausted,
    RateLimitExceeded,
    ThrottledUntil,
)
from archiver.store import runs, transaction
from archiver.store.sync import mark_deleted_upstream
from archiver.timeutil import to_iso, utc_now_iso

log = logging.getLogger("archiver.serve")

GATEWAY_SOURCE = "gateway"
CAP_COOLDOWN = 3600.0  # a daily cap or CAPTCHA: refuse for this long (the reset time is unknown)


class RetryLater(ArchiverError):
    """A refusal the client should retry after ``retry_after`` seconds (its Retry-After)."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class GatewayBusy(RetryLater):
    """The gateway's own queue for this account is full."""

    def __init__(self, provider: str, retry_after: float):
        super().__init__(
            f"the gateway's queue for the {provider} account is full (a limit of this gateway, "
            f"not of the upstream account): retry in {math.ceil(retry_after)} s",
            retry_after,
        )


class UpstreamThrottled(RetryLater):
    """The upstream account throttled us or hit a cap; ``retry_after`` seconds until it clears."""

    def __init__(self, provider: str, retry_after: float, reason: str):
        until = to_iso(time.time() + retry_after)
        super().__init__(
            f"the upstream {provider} account is throttled ({reason}); "
            f"it clears at {until} (in {math.ceil(retry_after)} s)",
            retry_after,
        )
        self.until = until


class ShuttingDown(RetryLater):
    def __init__(self) -> None:
        # 5 s: long enough for a supervisor to have the next gateway listening.
        super().__init__("the gateway is shutting down: retry against its next start", 5.0)


@dataclass
class Exchange:
    """Who asks what, through which route (recorded in ``gateway_exchanges``)."""

    route: str
    prompt: str
    model: str
    key_id: int | None = None
    row_id: int | None = None
    # Whether the client has hung up (its connection closed); checked once the answer is in,
    # since aiohttp does not cancel a handler whose client left.
    client_left: Callable[[], bool] | None = None
    gone: bool = False  # recorded as client_gone already
    on_text: OnText = None  # a stream's: hears the answer text so far (batch/sender.py)
    finished: bool = False  # its row says done or failed


@dataclass
class GatewayStats:
    """One account's tally since the gateway started: logged when it stops."""

    admitted: int = 0
    # Requests turned away at once, by why: "busy" (the queue was full), "throttled" (the
    # account was resting after an upstream throttle or cap).
    refused: Counter[str] = field(default_factory=Counter)
    answered: int = 0
    failed: int = 0
    client_gone: int = 0  # answered and archived after their client had left
    upstream_requests: int = 0
    max_pending: int = 0  # the most admitted at once (in flight and waiting)

    def line(self, provider: str) -> str:
        refused = sum(self.refused.values())
        why = ", ".join(f"{reason} {count}" for reason, count in sorted(self.refused.items()))
        return (
            f"gateway {provider}: admitted {self.admitted}, answered {self.answered}, "
            f"failed {self.failed}, refused {refused}"
            + (f" ({why})" if why else "")
            + f", client gone {self.client_gone}, upstream requests {self.upstream_requests}, "
            f"most at once {self.max_pending}"
        )


class AccountGateway:
    def __init__(
        self,
        db: sqlite_utils.Database,
        sender: BatchProvider,
        *,
        concurrency: int = 2,
        max_queue: int = 16,
    ):
        self.db = db
        self.sender = sender
        self.provider = sender.name
        self.concurrency = max(1, concurrency)
        self.max_queue = max(0, max_queue)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._tasks: set[asyncio.Task[Answer]] = set()
        self.pending = 0  # admitted and not finished: in flight + waiting
        self.closing = False
        self.blocked_until = 0.0  # time.time() before which the account must rest (a cap)
        self.blocked_reason = ""
        self.stats = GatewayStats()
        self.answer_seconds = 0.0  # a moving average of how long an answer takes upstream
        self._load_cooldown()

    # --- admission ---------------------------------------------------------------------------

    def _load_cooldown(self) -> None:
        blocked = runs.sending_cooldown(self.db, self.provider, self.sender.account)
        if blocked is not None:
            self.blocked_until = blocked[0].timestamp()
            self.blocked_reason = "a cool-down remembered from an earlier throttle or cap"

    def _check_upstream(self) -> None:
        rest = self.blocked_until - time.time()
        if rest > 0:
            self.stats.refused["throttled"] += 1
            raise UpstreamThrottled(self.provider, rest, self.blocked_reason)
        pause = self.sender.limiter.pause_remaining()
        if pause > 0:
            self.stats.refused["throttled"] += 1
            raise UpstreamThrottled(self.provider, pause, "429 Too Many Requests")

    def _busy_retry_after(self) -> float:
        """A fair guess of when the queue ahead has drained: at the limiter's pace (whatever
        the concurrency, the account gets no more than that), or at the pace answers take
        with ``concurrency`` of them at once, whichever is slower."""
        rpm = self.sender.limiter.current_rpm
        by_rate = 60.0 / rpm if rpm else 0.0
        by_answers = self.answer_seconds / self.concurrency
        return max(1.0, self.pending * max(by_rate, by_answers))

    def admit(self) -> None:
        if self.closing:
            raise ShuttingDown()
        self._check_upstream()
        if self.pending >= self.concurrency + self.max_queue:
            self.stats.refused["busy"] += 1
            raise GatewayBusy(self.provider, self._busy_retry_after())

    # --- the answer --------------------------------------------------------------------------

    async def ask(self, thread: Thread, exchange: Exchange) -> Answer:
        """Send one turn through the account and archive it. Raises GatewayBusy,
        UpstreamThrottled, ShuttingDown or the sender's ArchiverError."""
        self.admit()
        self.pending += 1
        self.stats.admitted += 1
        self.stats.max_pending = max(self.stats.max_pending, self.pending)
        try:
            exchange.row_id = _record_start(self.db, exchange, self.provider)
        except BaseException:
            self.pending -= 1
            raise
        task = asyncio.create_task(self._answer(thread, exchange))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        try:
            answer = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():  # close() cut it: the client hears why
                raise ShuttingDown() from None
            # The handler was cancelled (its client went away): the answer goes on and is
            # archived; say so in its row.
            self.client_gone(exchange)
            raise
        if exchange.client_left is not None and exchange.client_left():
            self.client_gone(exchange)
        return answer

    def client_gone(self, exchange: Exchange) -> None:
        """The client will not read this answer (it is archived all the same)."""
        if not exchange.gone:
            exchange.gone = True
            # The row first: whoever watches the count may then read the row at once.
            _mark_client_gone(self.db, exchange.row_id)
            self.stats.client_gone += 1

    def _finished(self, task: asyncio.Task[Answer]) -> None:
        self._tasks.discard(task)
        self.pending -= 1
        if not task.cancelled() and task.exception() is not None:
            task.exception()  # retrieved: the awaiting handler (if any) reports it

    async def _answer(self, thread: Thread, exchange: Exchange) -> Answer:
        stats = CallStats()
        started = time.monotonic()
        try:
            async with self._slots:
                return await self._send(thread, exchange, stats, started)
        except asyncio.CancelledError:
            # Cut by shutdown, waiting for a slot or mid-answer: the row says so.
            self._failed(exchange, stats, started, "interrupted (gateway shutdown)")
            raise
        except Exception as exc:  # a bug or an unwrapped library error: no row stays 'running'
            self._failed(exchange, stats, started, f"{type(exc).__name__}: {exc}")
            raise

    async def _send(
        self, thread: Thread, exchange: Exchange, stats: CallStats, started: float
    ) -> Answer:
        try:
            self._check_upstream()  # a throttle seen while this one waited
        except UpstreamThrottled as exc:
            self._failed(exchange, stats, started, str(exc))
            raise
        sent = time.monotonic()
        try:
            answer = await self.sender.send(
                thread, exchange.prompt, exchange.model, stats, on_text=exchange.on_text
            )
        except RateLimitExceeded as exc:
            self._failed(exchange, stats, started, str(exc))
            wait = self.sender.limiter.pause_remaining() or exc.retry_after or 60.0
            raise UpstreamThrottled(self.provider, wait, "429 Too Many Requests") from None
        except ThrottledUntil as exc:
            # Upstream asked for a longer wait than one call may take: rest until then.
            self._failed(exchange, stats, started, str(exc))
            wait = max(1.0, exc.until.timestamp() - time.time())
            self._block(wait, exc.reason)
            # Remembered too, so a batch or a restarted gateway leaves the account alone.
            runs.remember_throttle_stop(self.db, self.provider, self.sender.account, exc)
            raise UpstreamThrottled(self.provider, wait, exc.reason) from None
        except QuotaExhausted as exc:
            self._failed(exchange, stats, started, str(exc))
            self._block(CAP_COOLDOWN, str(exc))
            raise UpstreamThrottled(self.provider, CAP_COOLDOWN, str(exc)) from None
        except ChallengeError as exc:
            # Never solved here: stop sending through this account until someone signs in
            # again in a browser (or the cool-down passes), and say so.
            self._failed(exchange, stats, started, str(exc))
            self._block(CAP_COOLDOWN, f"a challenge: {exc}")
            raise
        except ArchiverError as exc:
            self._failed(exchange, stats, started, str(exc))
            raise
        finally:
            self.stats.upstream_requests += stats.requests
        took = time.monotonic() - sent
        self.answer_seconds = (
            took if not self.answer_seconds else 0.8 * self.answer_seconds + 0.2 * took
        )
        self._archive(thread, answer)
        _record_end(
            self.db,
            exchange.row_id,
            "done",
            stats,
            started,
            conversation_id=answer.conversation_id,
            message_id=answer.message_id,
            answer=answer.text,
        )
        exchange.finished = True
        self.stats.answered += 1
        return answer

    def _failed(self, exchange: Exchange, stats: CallStats, started: float, error: str) -> None:
        if exchange.finished:
            return
        exchange.finished = True
        self.stats.failed += 1
        _record_end(self.db, exchange.row_id, "failed", stats, started, error=error[:1000])

    def _block(self, seconds: float, reason: str) -> None:
        self.blocked_until = time.time() + seconds
        self.blocked_reason = reason
        until = datetime.now(tz=UTC) + timedelta(seconds=seconds)
        runs.set_cooldown(self.db, self.provider, self.sender.account, until, reason[:200])

    def _archive(self, thread: Thread, answer: Answer) -> None:
        """The batch runner's save path, with ``source = 'gateway'``: searchable at once."""
        save_archive_copy(self.db, self.sender, thread, answer, log, source=GATEWAY_SOURCE)

    async def hide(self, conversation_id: str) -> None:
        """Hide (delete) a conversation upstream through the account's queue and limiter, then
        mark it in the archive (never deleted here). Already gone upstream counts as done."""
        self.admit()
        self.pending += 1
        try:
            async with self._slots:
                self._check_upstream()
                try:
                    await self.sender.cleanup(Thread(conversation_id=conversation_id))
                except NotFoundError:
                    pass
                except RateLimitExceeded as exc:
                    wait = self.sender.limiter.pause_remaining() or exc.retry_after or 60.0
                    raise UpstreamThrottled(self.provider, wait, "429 Too Many Requests") from None
        finally:
            self.pending -= 1
        mark_deleted_upstream(self.db, conversation_id)

    # --- shutdown ----------------------------------------------------------------------------

    async def close(self, grace_seconds: float = 300.0) -> int:
        """Refuse new work, wait for the answers in flight (up to ``grace_seconds``), then
        cancel what is left (recorded as failed). Returns how many were cancelled."""
        self.closing = True
        tasks = list(self._tasks)
        if not tasks:
            return 0
        log.warning("waiting for %d answer(s) in flight before stopping", len(tasks))
        _, left = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        return len(left)


# --- gateway_exchanges rows (each its own short transaction) ----------------------------------


def _record_start(db: sqlite_utils.Database, exchange: Exchange, provider: str) -> int:
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO gateway_exchanges (key_id, route, provider, model, prompt, status, "
            "started_at) VALUES (?, ?, ?, ?, ?, 'running', ?)",
            [
                exchange.key_id,
                exchange.route,
                provider,
                exchange.model or None,
                exchange.prompt,
                utc_now_iso(),
            ],
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _record_end(
    db: sqlite_utils.Database,
    row_id: int | None,
    status: str,
    stats: CallStats,
    started: float,
    **columns: object,
) -> None:
    """The row's outcome (``status`` and the ``columns`` it sets) and what it cost, the
    latency counted from ``started`` (monotonic)."""
    sets = "".join(f"{name} = ?, " for name in columns)
    with transaction(db) as conn:
        conn.execute(
            f"UPDATE gateway_exchanges SET status = ?, {sets}requests = ?, latency_ms = ?, "
            "finished_at = ? WHERE id = ?",
            [status, *columns.values(), stats.requests, elapsed_ms(started), utc_now_iso(), row_id],
        )


def _mark_client_gone(db: sqlite_utils.Database, row_id: int | None) -> None:
    with transaction(db) as conn:
        conn.execute("UPDATE gateway_exchanges SET client_gone = 1 WHERE id = ?", [row_id])
