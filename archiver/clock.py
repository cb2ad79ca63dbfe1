"""The clock everything that waits reads: ``now()`` (monotonic seconds), ``wall()`` (a UTC
datetime) and ``async sleep(seconds)``.

The rate limiter, the retry back-off, cool-downs and throttle stops take it from ``clock()``
when they are made, so a test swaps it for a ``FakeClock`` with ``use_clock`` and nothing waits
for real. ``FakeClock`` keeps virtual time: a sleep ends when every other task is blocked too,
and sleepers wake in deadline order, each seeing ``now()`` at its deadline.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def wall(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(tz=UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM = SystemClock()
_current: ContextVar[Clock] = ContextVar("archiver_clock", default=SYSTEM)


def clock() -> Clock:
    """The clock in force: the system's, or a test's (``use_clock``)."""
    return _current.get()


@contextmanager
def use_clock(replacement: Clock) -> Iterator[Clock]:
    """Within the block (and the tasks and ``asyncio.run`` calls it starts), ``clock()`` is
    ``replacement``."""
    token = _current.set(replacement)
    try:
        yield replacement
    finally:
        _current.reset(token)


class FakeClock:
    """Virtual time for tests. ``sleep`` parks the caller; once no other task can run, time
    jumps to the earliest deadline and its sleepers (ties in the order they slept) wake.
    ``advance`` moves time by hand (for code that reads ``now()`` without sleeping).

    "No other task can run" is the event loop's ready queue being empty: I/O in flight on a
    real socket does not hold the clock back, so with a real server a sleep can end before
    the server answers (as if the network were slow), never before its deadline."""

    SETTLE_SPINS = 1000  # bound on the loop iterations waited for the ready queue to empty

    def __init__(self, start: float = 1000.0, wall_start: datetime | None = None) -> None:
        self._now = start
        self._wall_start = wall_start or datetime.now(tz=UTC)
        self._start = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._driver: asyncio.Task[None] | None = None
        self.slept: list[float] = []  # every sleep asked for, in order (for assertions)

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self._now - self._start)

    def advance(self, seconds: float) -> None:
        """Move time forward and wake the sleepers whose deadline has come."""
        self._now += max(0.0, seconds)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, waiter = heapq.heappop(self._sleepers)
            if not waiter.done():
                waiter.set_result(None)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), waiter))
        if self._driver is None or self._driver.done() or self._driver.get_loop() is not loop:
            self._driver = loop.create_task(self._drive())
        await waiter

    async def _drive(self) -> None:
        while self._sleepers:
            await self._settle()
            self._sleepers = [s for s in self._sleepers if not s[2].done()]  # cancelled ones
            heapq.heapify(self._sleepers)
            if not self._sleepers:
                return
            deadline = self._sleepers[0][0]
            self.advance(max(0.0, deadline - self._now))

    async def _settle(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.SETTLE_SPINS):
            await asyncio.sleep(0)
            if not getattr(loop, "_ready", None):  # CPython's queue of runnable callbacks
                return
