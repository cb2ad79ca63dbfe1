"""One rate limiter per account, shared by every worker and every upstream call.

A token bucket (``max_rpm``, ``burst``) plus a shared pause: a 429 seen by any worker pauses
them all until ``Retry-After`` has passed. With ``adaptive`` on, each throttle lowers the rate
and successes raise it back slowly, never above ``max_rpm`` and, once throttled, never quite
back to the rate that was refused: users set ``--max-rpm`` too high and the limiter must learn
the account's real allowance instead of hammering it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class LimiterStats:
    acquired: int = 0
    throttled: int = 0
    paused_seconds: float = 0.0


class RateLimiter:
    DECREASE = 0.7  # multiply the rate by this on a throttle
    CEILING_MARGIN = 0.97  # climb back to at most this share of a rate that was throttled
    INCREASE_PER_SUCCESS = 0.01  # share of max rate regained per success

    def __init__(
        self,
        max_rpm: float | None,
        *,
        burst: int = 1,
        adaptive: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if max_rpm is not None and max_rpm <= 0:
            raise ValueError("max_rpm must be positive")
        self.max_rate = None if max_rpm is None else max_rpm / 60.0  # per second
        self.rate = self.max_rate
        self.ceiling = self.max_rate
        self.capacity = max(1, burst)
        self.tokens = float(self.capacity)
        self.adaptive = adaptive
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self.paused_until = 0.0
        self._lock = asyncio.Lock()
        self.stats = LimiterStats()

    @property
    def current_rpm(self) -> float | None:
        return None if self.rate is None else self.rate * 60.0

    def _refill(self, now: float) -> None:
        if self.rate is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        """Wait for a pause to end and for a token. Waiters are served in order."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self.paused_until:
                    await self._sleep(self.paused_until - now)
                    continue
                self._refill(now)
                if self.rate is None or self.tokens >= 1.0:
                    if self.rate is not None:
                        self.tokens -= 1.0
                    self.stats.acquired += 1
                    return
                await self._sleep((1.0 - self.tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        """Every worker waits ``seconds`` from now (a longer pause already set stands)."""
        now = self._clock()
        until = now + max(0.0, seconds)
        if until > self.paused_until:
            self.stats.paused_seconds += until - max(now, self.paused_until)
            self.paused_until = until
            # Resume gently: the account's allowance was used up, do not burst after the pause.
            self._refill(now)
            self.tokens = 0.0
            self._updated = until

    def pause_remaining(self) -> float:
        """Seconds the shared pause (a 429's Retry-After) still has to run; 0 if none."""
        return max(0.0, self.paused_until - self._clock())

    def throttled(self, wait_seconds: float) -> None:
        """A 429 (or equivalent) was seen: pause everyone and, if adaptive, slow down."""
        self.stats.throttled += 1
        if self.adaptive and self.rate is not None:
            self.ceiling = min(self.ceiling or self.rate, self.rate) * self.CEILING_MARGIN
            self.rate = max(self.rate * self.DECREASE, 1.0 / 60.0)
        self.pause(wait_seconds)

    def succeeded(self) -> None:
        if self.adaptive and self.rate is not None and self.max_rate is not None:
            limit = min(self.max_rate, self.ceiling or self.max_rate)
            self.rate = min(limit, self.rate + self.max_rate * self.INCREASE_PER_SUCCESS)
