"""One pacer per key: requests and tokens per minute, spread evenly, learnt from the server.

The API states its allowance on every answer (``x-ratelimit-limit-requests``, ``-tokens``, per
minute) but enforces it over much shorter windows: a burst is refused while
``x-ratelimit-remaining-*`` still shows room. So the pace comes from the ``limit-*`` figures,
spread evenly: each request waits for its own slot, ``60 / limit`` seconds after the one
before, and for its tokens' share of the minute (its prompt's estimate plus ``max_tokens``),
at ``SHARE`` of the limit to leave room for the timing noise of the network.

- ``--max-rpm`` / ``--max-tpm`` cap the pace whatever the server says; without them the pace
  is what the headers say, and the first requests (before any header) go unpaced, bounded by
  the run's concurrency. Once a pace is known, those first requests count as if they had been
  paced from the first one: the next slot comes after their share of the minute. A server
  without the headers (Ollama, vLLM) is never paced.
- A 429 pauses every request on the key (the shared pause of ``RateLimiter``) for as long as
  it asks; refused requests count against the limit too, so the pace does not speed up to
  catch up afterwards.

It is a ``RateLimiter`` so that the shared retry loop (``call_with_retries``) drives it: a
request takes its slot in ``acquire``, its tokens in ``spend``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from archiver.providers.openai.parse import RateLimits
from archiver.transport.ratelimit import RateLimiter

SHARE = 0.98  # of the advertised allowance


class ApiPacer(RateLimiter):
    def __init__(
        self,
        max_rpm: float | None = None,
        max_tpm: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        super().__init__(max_rpm, adaptive=False, clock=clock, sleep=sleep)
        self.rpm_cap = max_rpm
        self.tpm_cap = max_tpm
        self.token_rate: float | None = None if max_tpm is None else max_tpm / 60.0
        self.advertised = RateLimits()  # the last limits a server stated
        self._next_request = 0.0  # when the next request may go (its slot)
        self._next_tokens = 0.0  # when the token budget has room again
        # Requests and tokens let through before any pace was known, and when the first went.
        self._unpaced = [0, 0]
        self._unpaced_since: float | None = None
        self._token_lock = asyncio.Lock()

    @property
    def current_tpm(self) -> float | None:
        return None if self.token_rate is None else self.token_rate * 60.0

    def observe(self, limits: RateLimits) -> None:
        """Pace from the limits a server stated (capped by ``--max-rpm``/``--max-tpm``)."""
        if limits.limit_requests:
            self.advertised = limits
            self.rate, self._next_request = self._learn(
                limits.limit_requests, self.rpm_cap, self.rate, self._next_request, 0
            )
        if limits.limit_tokens:
            self.advertised = limits
            self.token_rate, self._next_tokens = self._learn(
                limits.limit_tokens, self.tpm_cap, self.token_rate, self._next_tokens, 1
            )

    def _learn(
        self, limit: int, cap: float | None, rate: float | None, next_at: float, which: int
    ) -> tuple[float, float]:
        """The pace (per second) of a stated per-minute ``limit``, and when its next slot is:
        the first time, after what went unpaced before it (counted as if it had been paced)."""
        per_minute = limit * SHARE
        learnt = min(per_minute, cap or per_minute) / 60.0
        if rate is None and self._unpaced_since is not None:
            next_at = max(next_at, self._unpaced_since + self._unpaced[which] / learnt)
        return learnt, next_at

    async def acquire(self) -> None:
        """Wait out any pause, then for this request's slot (slots are handed out in order)."""
        async with self._lock:
            now = await self._after_pause()
            if self.rate is not None:
                slot = max(now, self._next_request)
                self._next_request = slot + 1.0 / self.rate
                if slot > now:
                    await self._sleep(slot - now)
            else:
                self._count_unpaced(now, 0, 1)
            self.stats.acquired += 1

    async def spend(self, tokens: int) -> None:
        """Wait until ``tokens`` fit in the token pace (each request's share of the minute
        follows the one before it)."""
        if tokens <= 0:
            return
        async with self._token_lock:
            now = await self._after_pause()
            if self.token_rate is not None:
                start = max(now, self._next_tokens)
                self._next_tokens = start + tokens / self.token_rate
                if start > now:
                    await self._sleep(start - now)
            else:
                self._count_unpaced(now, 1, tokens)

    def _count_unpaced(self, now: float, which: int, amount: int) -> None:
        if self._unpaced_since is None:
            self._unpaced_since = now
        self._unpaced[which] += amount

    def charge(self, tokens: int) -> None:
        """Tokens an answer used beyond what was counted up front (no ``max_tokens``): the
        pace makes room for them after the fact."""
        if tokens > 0 and self.token_rate is not None:
            self._next_tokens = max(self._next_tokens, self._clock()) + tokens / self.token_rate

    async def _after_pause(self) -> float:
        while (now := self._clock()) < self.paused_until:
            await self._sleep(self.paused_until - now)
        return now

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        # After a pause the slots start again from its end, one at a time: no catching up.
        self._next_request = max(self._next_request, self.paused_until)
        self._next_tokens = max(self._next_tokens, self.paused_until)

    def succeeded(self) -> None:
        """Nothing to learn from a success: the headers already said the pace."""
