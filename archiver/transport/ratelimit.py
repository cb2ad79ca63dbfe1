"""One rate limiter per account, shared by every worker and every upstream call.

A token bucket (``max_rpm``, ``burst``) plus a shared pause: a 429 seen by any worker pauses
them all until ``Retry-After`` has passed. With ``adaptive`` on, the limiter learns the
account's real allowance when ``--max-rpm`` is set too high, from the first throttles, and then
stays under it instead of probing upwards again: each throttle costs every worker a whole
``Retry-After`` (HTTP says whole seconds, at least 1), in which a fast server's small bucket
fills to the brim and overflows.

How it learns. The rate only changes at an *event* (a throttle, or a jump up after a quiet
stretch), and from an event to the next throttle is an *interval*: the server accepted ``N``
requests in ``a`` seconds at one sending rate. A token bucket (``rate``, ``cap``) that starts
an interval holding ``B`` tokens and ends it empty gives ``N ≈ B + rate·a``, so:

- two intervals that start alike (both after pauses of the same length, or the run's first,
  from a full bucket, and a longer one after a pause) measure ``rate = ΔN / Δa``, however big
  the bucket is (intervals after a jump are left out: the quiet stretch before may have been
  a slow drain);
- an interval after a pause of ``R`` seconds gives the lower bound ``(N - 1) / (R + a)``
  (near exact for a slow server, whose bucket the pause does not fill: the larger of the two
  is the allowance either way), the whole run another one, and every interval the upper
  bound ``(N + 1) / a``.

Until an allowance is measured, the first throttle cuts the rate to ``FIRST_CUT`` of itself
(so that the next interval is long), later ones to ``NEXT_CUT``, or halfway (in ratio) up from
a lower bound that says more; a rate that runs ``QUIET_SECONDS`` without a throttle is under
the allowance, and the limiter jumps halfway (in ratio) towards the lowest rate that was
throttled. Once measured, it runs at ``SAFETY`` of the allowance, and goes up only as far as
the measurement may be off (each count may be a request or two off), never past a rate that
was throttled. Throttles that arrive during the pause one of them set (requests already in
flight) belong to the interval before it; ``-v`` logs each step."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from archiver.clock import clock as current_clock

log = logging.getLogger("archiver.ratelimit")

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


@dataclass(frozen=True)
class Interval:
    """From an event (the run's first request, a pause's end, a jump up) to a throttle."""

    accepted: int  # requests the server let through
    seconds: float
    pause_before: float | None  # the pause it followed (None: the run's first, or a jump)
    jumped: bool = False  # it began with a jump up after a quiet stretch


class RateLimiter:
    FIRST_CUT = 0.55  # the first throttle, nothing known yet: this share of the rate
    NEXT_CUT = 0.8  # ... a later one, still with nothing known
    SAFETY = 0.99  # once the allowance is measured, run at this share of it
    MIN_CUT = 0.95  # a throttle always takes the rate to at most this share of what it was
    QUIET_SECONDS = 5.0  # this long (and QUIET_REQUESTS) with no throttle: under the allowance
    QUIET_REQUESTS = 10
    MIN_SPAN = 0.5  # seconds and MIN_GAIN requests: two intervals this far apart measure a
    MIN_GAIN = 10  # rate (each count is off by one or two: fewer would say little)
    BRACKET = 1.1  # a lower and an upper bound this close: the lower one is the allowance
    KEPT = 6  # intervals remembered (an allowance can change during a run)

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
        self.capacity = max(1, burst)
        self.tokens = float(self.capacity)
        self.adaptive = adaptive
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self.paused_until = 0.0
        self._lock = asyncio.Lock()
        self.stats = LimiterStats()
        self.measured: float | None = None  # the allowance learned (requests per second)
        self.doubt = 0.0  # how far off the measurement may be (a share of it)
        self.low: float | None = None  # a rate that ran quietly: under the allowance
        self.high: float | None = None  # the lowest rate that was throttled
        self.intervals: deque[Interval] = deque(maxlen=self.KEPT)
        self._since: float | None = None  # when the current interval began (its first request)
        self._pause_before: float | None = None
        self._jumped = False
        self._granted = 0  # in the current interval
        self._refused = 0
        self._started: float | None = None  # the run's first request
        self._first: int | None = None  # requests the first interval had accepted

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
                    self._granted += 1
                    if self._since is None:
                        self._since = now
                        if self._started is None:
                            self._started = now
                    elif self.adaptive:
                        self._after_quiet(now)
                    return
                await self._sleep((1.0 - self.tokens) / self.rate)

    def _after_quiet(self, now: float) -> None:
        """A rate that ran a while without a throttle is under the allowance: jump halfway (in
        ratio) towards the lowest rate that was throttled, starting an interval whose bucket
        is full."""
        if self._since is None or self.rate is None or self.high is None:
            return  # (never throttled: still at max_rpm, nothing to look for)
        quiet = self.QUIET_SECONDS * (1 if self.measured is None else 2)  # (measured: surer)
        if now - self._since < quiet or self._granted < self.QUIET_REQUESTS:
            return
        self.low = max(self.low or 0.0, self.rate)
        ceiling = self.high
        if self.measured is not None:  # no further than the measurement may be off
            ceiling = min(ceiling, self.measured * (1.0 + self.doubt))
        if ceiling <= self.rate * 1.02:
            return
        self.rate = math.sqrt(self.rate * ceiling)
        log.info("no throttle for a while: up to %.0f requests/min", self.rate * 60)
        self._since, self._pause_before, self._jumped = now, None, True
        self._granted, self._refused = 1, 0

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
        """A 429 (or equivalent) was seen: pause everyone and, if adaptive, slow down to what
        the server was measured to allow (module docstring)."""
        self.stats.throttled += 1
        now = self._clock()
        if not self.adaptive or self.rate is None:
            self.pause(wait_seconds)
            return
        if now < self.paused_until:  # a request already in flight: the last interval's
            if self.intervals:
                last = self.intervals[-1]
                self.intervals[-1] = replace(last, accepted=max(0, last.accepted - 1))
            self.pause(wait_seconds)
            return
        self._refused += 1
        since = now if self._since is None else self._since
        self.intervals.append(
            Interval(
                max(0, self._granted - self._refused),
                now - since,
                self._pause_before,
                self._jumped,
            )
        )
        if self._first is None:
            self._first = self.intervals[-1].accepted
        self.high = min(self.high or self.rate, self.rate)
        if self.low is not None and self.low >= self.rate:
            self.low = None  # that quiet stretch was a slow drain, not room to spare
        slope, low, high = self.bounds()
        ceiling = min(high or self.high, self.high)
        floor = max(low or 0.0, self.low or 0.0) or None
        if slope is not None:  # measured: stay under it from now on
            self.measured = min(max(slope[0], low or 0.0), ceiling)
            self.doubt = slope[1]
            target = self.measured * self.SAFETY
        elif floor is not None and ceiling <= floor * self.BRACKET:  # bracketed closely enough
            self.measured = floor
            self.doubt = ceiling / floor - 1.0
            target = floor * self.SAFETY
        elif len(self.intervals) == 1:  # nothing known: a deep cut, for a long next interval
            target = self.rate * self.FIRST_CUT
        else:  # a gentler one, or halfway (in ratio) up from a floor that says more
            target = max(self.rate * self.NEXT_CUT, math.sqrt((floor or 0.0) * self.rate))
        before = self.rate
        self.rate = max(min(target, self.rate * self.MIN_CUT), 1.0 / 60.0)
        log.info(
            "throttled after %d accepted in %.2f s: %.0f -> %.0f requests/min%s",
            self.intervals[-1].accepted,
            self.intervals[-1].seconds,
            before * 60,
            self.rate * 60,
            f" (allowance measured: {self.measured * 60:.0f}/min)" if self.measured else "",
        )
        self.pause(wait_seconds)
        # The next interval starts with its first request (a bucket refilled during the pause
        # cannot hold more than it holds, so the wait for that request says nothing).
        self._since, self._pause_before, self._jumped = None, max(0.0, wait_seconds), False
        self._granted = self._refused = 0

    def bounds(self) -> tuple[tuple[float, float] | None, float | None, float | None]:
        """What the intervals say of the allowance (requests per second, module docstring):
        (the rate two alike intervals measure with how far off it may be, as a share; the best
        lower bound; the best upper bound), each None until something says it."""
        slopes: list[tuple[float, float, float]] = []  # (span, rate, doubt): longest is surest
        lows: list[float] = []
        highs: list[float] = []
        seen = list(self.intervals)
        for k, interval in enumerate(seen):
            n, a, before = interval.accepted, interval.seconds, interval.pause_before
            if a > 0:
                highs.append((n + 1) / a)
            if before is not None and a + before > 0 and n > 1:
                # (the bucket may have kept up to a token through the pause)
                lows.append((n - 1) / (a + before))
            for earlier in seen[:k]:
                span = a - earlier.seconds
                if interval.jumped or earlier.jumped:
                    continue  # (a quiet stretch may have been a slow drain: no full bucket)
                if abs(span) < self.MIN_SPAN or abs(n - earlier.accepted) < self.MIN_GAIN:
                    continue
                # Alike, or the full start then a longer interval after a pause: a pause that
                # did not fill the bucket makes that slope low, and N / (R + a) exact.
                if earlier.pause_before == before or (earlier.pause_before is None and span > 0):
                    slope = (n - earlier.accepted) / span
                    if slope > 0:  # (each count may be a request or two off)
                        slopes.append((abs(span), slope, 2.0 / abs(n - earlier.accepted)))
        if self._first is not None and self._started is not None:
            # The whole run: A accepted in T seconds from a bucket of at most cap <= N0 + 1
            # tokens, so A <= N0 + 1 + rate * T (slow servers: close to the rate).
            elapsed = self._clock() - self._started
            accepted = self.stats.acquired - self.stats.throttled
            if elapsed > 0 and accepted - self._first - 1 > 0:
                lows.append((accepted - self._first - 1) / elapsed)
        return (
            max(slopes)[1:] if slopes else None,
            max(lows) if lows else None,
            min(highs) if highs else None,
        )

    def succeeded(self) -> None:
        """A request went through (the limiter learns from throttles and quiet stretches)."""
