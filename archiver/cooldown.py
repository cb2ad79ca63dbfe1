"""Cool-downs carried from one run to the next, so cron does not hammer a throttled account.

At the end of a run: if the shared limiter is still paused by a 429 (``Retry-After``), or the
run gave up because it kept being throttled, the account's cool-down is stored. At the start of
the next run: a short remaining cool-down (``max_cooldown_wait``) is waited out; a long one skips
the job with status ``cooldown`` and exit code 0 (nothing failed: the account needs rest)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import sqlite_utils

from archiver.clock import clock
from archiver.errors import RateLimitExceeded, ThrottledUntil
from archiver.options import Option, boolean, non_negative_number
from archiver.store import runs
from archiver.store.runs import remember_throttle_stop
from archiver.summary import Summary
from archiver.timeutil import to_iso
from archiver.transport.ratelimit import GAVE_UP_COOLDOWN, RateLimiter

log = logging.getLogger("archiver.jobs")

DEFAULT_MAX_COOLDOWN_WAIT = 300.0  # seconds a run waits for a cool-down before skipping


@dataclass
class CooldownSkip(Summary):
    """The summary of a job skipped because its account is cooling down (exit 0)."""

    provider: str
    account: str
    until: str
    run_status: ClassVar[str | None] = runs.STATUS_COOLDOWN
    reason: str | None = None  # what the run that stopped said (a model cap, a 429)

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
    sending: bool = False,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> CooldownSkip | None:
    """Wait out a short cool-down; return a CooldownSkip for a long one, None to go ahead.
    ``sending``: a run that sends prompts (batch) also honours a sending cap (a model cap,
    stored under ``<provider>:send``), which a backup, only reading, does not."""
    if sending:
        blocked = runs.sending_cooldown(db, provider, account)
    else:
        until = runs.active_cooldown(db, provider, account)
        blocked = None if until is None else (until, runs.cooldown_reason(db, provider, account))
    if blocked is None:
        return None
    until, reason = blocked
    remaining = (until - clock().wall()).total_seconds()
    if remaining > max_wait:
        until_iso = to_iso(until.timestamp()) or ""
        log.warning("%s: resting until %s (%s): skipping this run", provider, until_iso, reason)
        return CooldownSkip(provider, account, until_iso, reason=reason or None)
    log.info("%s: waiting %.0f s for the account's cool-down to end", provider, remaining)
    await (sleep or clock().sleep)(max(0.0, remaining))
    return None


def cooldown_options() -> dict[str, Option]:
    """What every command that calls an account takes about a stored cool-down."""
    return {
        "ignore_cooldown": Option(
            boolean, False, "Run even if a recent 429 left the account cooling down."
        ),
        "max_cooldown_wait": Option(
            non_negative_number,
            DEFAULT_MAX_COOLDOWN_WAIT,
            "Seconds to wait for a cool-down to end, else skip (exit 0).",
        ),
    }


async def unless_cooling_down(
    db: sqlite_utils.Database,
    provider: str,
    account: str,
    values: Mapping[str, Any],
    run: Callable[[], Awaitable[Summary]],
) -> Summary:
    """``run()`` unless the account is still cooling down after a 429 (then a CooldownSkip,
    exit 0): every provider's backup, from the command line or a job file, checks here first.
    ``values`` are the backup's options (``ignore_cooldown``, ``max_cooldown_wait``)."""
    if not values.get("ignore_cooldown"):
        wait = values.get("max_cooldown_wait", DEFAULT_MAX_COOLDOWN_WAIT)
        skip = await honour_cooldown(db, provider, account, wait)
        if skip is not None:
            return skip
    return await run()


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
    until = clock().wall() + timedelta(seconds=seconds)
    stored = runs.set_cooldown(db, provider, account, until, reason)
    log.warning("%s: throttled; cooling down until %s", provider, stored)
    return stored
