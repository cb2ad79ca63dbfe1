"""Cool-downs carried from one run to the next, so cron does not hammer a throttled account.

At the end of a run: if the shared limiter is still paused by a 429 (``Retry-After``), or the
run gave up because it kept being throttled, the account's cool-down is stored. At the start of
the next run: a short remaining cool-down (``max_cooldown_wait``) is waited out; a long one skips
the job with status ``cooldown`` and exit code 0 (nothing failed: the account needs rest)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlite_utils

from archiver.errors import EXIT_OK, RateLimitExceeded, ThrottledUntil
from archiver.store import runs
from archiver.store.runs import remember_throttle_stop
from archiver.timeutil import to_iso
from archiver.transport.ratelimit import RateLimiter

log = logging.getLogger("archiver.jobs")

DEFAULT_MAX_COOLDOWN_WAIT = 300.0  # seconds a run waits for a cool-down before skipping
# A run that gave up because of 429s rests the account at least this long, even when the
# server sent no (or a short) Retry-After.
GAVE_UP_COOLDOWN = 900.0


@dataclass
class CooldownSkip:
    """The summary of a job skipped because its account is cooling down."""

    provider: str
    account: str
    until: str
    run_status: str = runs.STATUS_COOLDOWN
    exit_code: int = EXIT_OK
    errors: list[str] = field(default_factory=list)
    reason: str | None = None  # what the run that stopped said (a model cap, a 429)

    def counts(self) -> dict[str, int]:
        return {}

    def line(self) -> str:
        if self.reason:
            return (
                f"{self.provider}: skipped: the account is cooling down until {self.until} "
                f"({self.reason}); a run after then continues"
            )
        return (
            f"{self.provider}: skipped: the account is cooling down after being throttled "
            f"(HTTP 429) until {self.until}; the next run continues"
        )


async def honour_cooldown(
    db: sqlite_utils.Database,
    provider: str,
    account: str,
    max_wait: float,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> CooldownSkip | None:
    """Wait out a short cool-down; return a CooldownSkip for a long one, None to go ahead."""
    until = runs.active_cooldown(db, provider, account)
    if until is None:
        return None
    remaining = (until - datetime.now(tz=UTC)).total_seconds()
    if remaining > max_wait:
        until_iso = to_iso(until.timestamp()) or ""
        log.info("%s: cooling down until %s; skipping this run", provider, until_iso)
        return CooldownSkip(provider, account, until_iso)
    log.info("%s: waiting %.0f s for the account's cool-down to end", provider, remaining)
    await sleep(max(0.0, remaining))
    return None


def remember_cooldown(
    db: sqlite_utils.Database,
    provider: str,
    account: str,
    limiter: RateLimiter,
    aborted: BaseException | None,
) -> str | None:
    """Store the cool-down this run ends with, if any; return its end (ISO) when stored."""
    if isinstance(aborted, ThrottledUntil):
        return remember_throttle_stop(db, provider, account, aborted)
    seconds = limiter.pause_remaining()
    reason = "429 Retry-After still running when the run ended"
    if isinstance(aborted, RateLimitExceeded) and seconds < GAVE_UP_COOLDOWN:
        seconds = GAVE_UP_COOLDOWN
        reason = "the run gave up after repeated 429s"
    if seconds <= 0:
        return None
    until = datetime.now(tz=UTC) + timedelta(seconds=seconds)
    stored = runs.set_cooldown(db, provider, account, until, reason)
    log.warning("%s: throttled; cooling down until %s", provider, stored)
    return stored
