"""How we pace and retry the calls to one account, as one value: the functions that open an
upstream client (a backup, the account tools) take a ``ClientPace`` instead of repeating the
same four keywords, and open their transport and limiter from it with ``paced_http``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from archiver.transport.base import Transport
from archiver.transport.connect import open_transport
from archiver.transport.http import HttpClient, RetryPolicy
from archiver.transport.ratelimit import RateLimiter

H = TypeVar("H", bound=HttpClient)


@dataclass(frozen=True)
class ClientPace:
    """The pace of one account: ``max_rpm`` (None: unpaced, for the local emulator) and
    ``burst`` for its one limiter, the retry ``policy`` (None: RetryPolicy()), and the read
    timeout of its transport. Frozen, so that a provider's default can be a module constant."""

    max_rpm: float | None
    burst: int = 1
    policy: RetryPolicy | None = None
    timeout_seconds: float = 120.0

    def limiter(self) -> RateLimiter:
        return RateLimiter(self.max_rpm, burst=self.burst)


@asynccontextmanager
async def paced_http(
    pace: ClientPace,
    make_http: Callable[[Transport, RateLimiter, RetryPolicy | None], H],
    *,
    transport: str = "aiohttp",
    limiter: RateLimiter | None = None,
) -> AsyncIterator[H]:
    """``make_http(transport, limiter, policy)`` on the named transport (``open_transport``),
    under the pace's limiter, or under ``limiter`` when the caller owns one (to read its pause
    after the run)."""
    async with open_transport(transport, timeout_seconds=pace.timeout_seconds) as opened:
        yield make_http(opened, pace.limiter() if limiter is None else limiter, pace.policy)
