"""One rate limiter per account, shared by every worker and every upstream call.

A token bucket (``max_rpm``, ``burst``) plus a shared pause: a 429 seen by any worker pauses
them all until ``Retry-After`` has passed. With ``adaptive`` on, the limiter learns the
account's real allowance when ``--max-rpm`` is set too high, in a few throttles rather than
dozens:

- on a throttle it measures the rate the server actually accepted over the recent past
  (requests granted minus those refused, over a window of several seconds or ~20 requests,
  pauses included) and drops to that: a multiplicative cut of at least ``MIN_CUT`` and at most
  ``MAX_CUT``, so that one noisy estimate can neither keep it too high nor sink it;
- throttles that arrive during the pause one of them set (requests that were already in
  flight) say nothing new and change nothing;
- after that it probes upward slowly (``PROBE`` per success, slower above the measured rate),
  never beyond ``max_rpm``, so an allowance that grows is found again.

A throttle costs a whole ``Retry-After`` (HTTP says whole seconds, at least 1): the aim is few
of them, not a fast climb back."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from archiver.clock import clock as current_clock

# Seconds one throttle pause may last (`--max-wait`); beyond it a run stops (ThrottledUntil).
# Here, not in http.py, so that commands can show the default without importing aiohttp.
DEFAULT_MAX_WAIT = 300.0
# A run that gave up because of throttles rests the account at least this long (docs/jobs.md,
# "Throttling"), even when the server said nothing (or little) of when to come back.
GAVE_UP_COOLDOWN = 900.0


@dataclass
class LimiterStats:
    acquired: int = 0
    throttled: int = 0
    paused_seconds: float = 0.0


class RateLimiter:
    MIN_CUT = 0.9  # a throttle takes the rate to at most this share of what it was
    MAX_CUT = 0.5  # ... and to at least this share, whatever the estimate says
    DECREASE = 0.7  # the cut when too few requests were seen to estimate anything
    PROBE = 0.002  # share of the rate gained per success, up to the measured rate
    PROBE_ABOVE = 0.0003  # ... and beyond it, where the last throttle was
    WINDOW_SECONDS = 5.0  # the least time the accepted rate is measured over
    WINDOW_REQUESTS = 20  # ... or the time this many requests take at the current rate
    MIN_SAMPLES = 5  # fewer granted requests than this in the window: no estimate

    def __init__(
        self,
        max_rpm: float | None,
        *,
        burst: int = 1,
        adaptive: bool = True,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ):
        # Default: the clock in force when the limiter is made (archiver.clock).
        clock = clock or current_clock().now
        sleep = sleep or current_clock().sleep
        if max_rpm is not None and not 0 < max_rpm < float("inf"):  # nan fails this too
            raise ValueError("max_rpm must be a positive number")
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
        self.measured: float | None = None  # the accepted rate the last throttle measured
        self._grants: deque[float] = deque()  # when recent requests were let through
        self._refusals: deque[float] = deque()  # when recent throttles came back

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
                # (A hair below 1 counts: refill arithmetic can leave 0.999..., and a sleep
                # too short for the clock to move would spin.)
                if self.rate is None or self.tokens >= 1.0 - 1e-9:
                    if self.rate is not None:
                        self.tokens = max(0.0, self.tokens - 1.0)
                    self.stats.acquired += 1
                    if self.adaptive:
                        self._grants.append(now)
                        self._forget(now)
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

    def _window(self) -> float:
        per_second = self.rate or self.max_rate or 1.0
        return max(self.WINDOW_SECONDS, self.WINDOW_REQUESTS / per_second)

    def _forget(self, now: float) -> None:
        horizon = now - 2 * self._window()
        for times in (self._grants, self._refusals):
            while times and times[0] < horizon:
                times.popleft()

    def accepted_rate(self, now: float | None = None) -> float | None:
        """Requests per second the server accepted over the recent window (pauses count as
        time); None when too few requests were seen to say."""
        now = self._clock() if now is None else now
        start = now - self._window()
        granted = [t for t in self._grants if t >= start]
        if len(granted) < self.MIN_SAMPLES:
            return None
        refused = sum(1 for t in self._refusals if t >= start)
        span = now - max(start, granted[0])
        if span <= 0:
            return None
        return max(0.0, len(granted) - refused) / span

    def throttled(self, wait_seconds: float) -> None:
        """A 429 (or equivalent) was seen: pause everyone and, if adaptive, slow down to the
        rate the server was seen to accept."""
        self.stats.throttled += 1
        now = self._clock()
        if self.adaptive and self.rate is not None:
            self._refusals.append(now)
            if now >= self.paused_until:  # a throttle during its pause is old news
                estimate = self.accepted_rate(now)
                if estimate is None:
                    target = self.rate * self.DECREASE
                else:
                    target = min(self.rate * self.MIN_CUT, max(estimate, self.rate * self.MAX_CUT))
                    self.measured = estimate
                self.rate = max(target, 1.0 / 60.0)
                # Probe briskly back to what was accepted, gently beyond it.
                self.ceiling = max(self.rate, estimate) if estimate is not None else self.rate
        self.pause(wait_seconds)

    def succeeded(self) -> None:
        if self.adaptive and self.rate is not None and self.max_rate is not None:
            step = self.PROBE if self.rate < (self.ceiling or self.max_rate) else self.PROBE_ABOVE
            self.rate = min(self.max_rate, self.rate * (1.0 + step))
