"""The ``backup chatgpt`` job kind, and the cool-down/full-reconcile wrapper that both
``archiver run`` and ``archiver backup chatgpt`` use around ``backup_chatgpt``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlite_utils

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.jobs.cooldown import (
    DEFAULT_MAX_COOLDOWN_WAIT,
    CooldownSkip,
    honour_cooldown,
    remember_cooldown,
)
from archiver.jobs.options import (
    Option,
    boolean,
    credential,
    http_url,
    integer,
    job_secret,
    non_negative_number,
    positive_number,
    text,
)
from archiver.progress import Progress
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.providers.chatgpt.client import DEFAULT_BASE_URL, ChatGPTSettings
from archiver.store.sync import last_full_at
from archiver.timeutil import to_datetime
from archiver.transport.http import RetryPolicy
from archiver.transport.ratelimit import RateLimiter

if TYPE_CHECKING:
    from archiver.jobs.config import JobConfig

PROVIDER = "chatgpt"

OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "backend-api base URL (a proxy, the emulator)"),
    "account_id": Option(text, None, "team workspace id (Chatgpt-Account-Id)"),
    **credential("token", "CHATGPT_ACCESS_TOKEN"),
    "concurrency": Option(integer(1, 32), 2, "requests in flight at once"),
    "max_rpm": Option(positive_number, 30.0, "requests per minute at most"),
    "include_archived": Option(boolean, True, "also back up archived chats"),
    "full": Option(boolean, False, "always walk the whole list"),
    "snapshot": Option(boolean, True, "record plan, models and limits first (4 requests)"),
    "full_every_days": Option(integer(1), None, "walk the whole list when the last was this old"),
    "timeout": Option(positive_number, 120.0, "seconds to wait for a response"),
    "max_cooldown_wait": Option(
        non_negative_number, DEFAULT_MAX_COOLDOWN_WAIT, "wait this long for a cool-down, else skip"
    ),
}


def full_reconcile_due(
    db: sqlite_utils.Database, settings: ChatGPTSettings, every_days: int | None
) -> bool:
    """True when a periodic full walk is due: never done, or the last one is too old."""
    if not every_days:
        return False
    last = to_datetime(last_full_at(db, PROVIDER, settings.account, settings.base_url))
    return last is None or last <= datetime.now(tz=UTC) - timedelta(days=every_days)


async def backup_chatgpt_guarded(
    db: sqlite_utils.Database,
    settings: ChatGPTSettings,
    *,
    options: BackupOptions | None = None,
    full_every_days: int | None = None,
    max_cooldown_wait: float = DEFAULT_MAX_COOLDOWN_WAIT,
    ignore_cooldown: bool = False,
    include_archived: bool = True,
    max_rpm: float | None = 30.0,
    timeout_seconds: float = 120.0,
    policy: RetryPolicy | None = None,
    progress: Progress | None = None,
    snapshot: bool = True,
) -> BackupSummary | CooldownSkip:
    """``backup_chatgpt`` that honours the account's stored cool-down first, runs a full
    reconcile when one is due, and stores the cool-down this run ends with."""
    account = settings.account
    if not ignore_cooldown:
        skip = await honour_cooldown(db, PROVIDER, account, max_cooldown_wait)
        if skip is not None:
            return skip
    options = options or BackupOptions()
    if not options.full and full_reconcile_due(db, settings, full_every_days):
        options = replace(options, full=True)
    limiter = RateLimiter(max_rpm)
    summary = await backup_chatgpt(
        db,
        settings,
        options=options,
        include_archived=include_archived,
        policy=policy,
        timeout_seconds=timeout_seconds,
        progress=progress,
        snapshot=snapshot,
        limiter=limiter,
    )
    remember_cooldown(db, PROVIDER, account, limiter, summary.aborted)
    return summary


def settings_for(job: JobConfig) -> ChatGPTSettings:
    return ChatGPTSettings(
        base_url=job.options["base_url"],
        token=job_secret(job, "token", "ChatGPT access token"),
        account_id=job.options["account_id"],
    )


async def run_job(
    db: sqlite_utils.Database, job: JobConfig, *, policy: RetryPolicy | None = None
) -> BackupSummary | CooldownSkip:
    """The ``backup chatgpt`` job kind."""
    o = job.options
    return await backup_chatgpt_guarded(
        db,
        settings_for(job),
        options=BackupOptions(full=o["full"], concurrency=o["concurrency"]),
        full_every_days=o["full_every_days"],
        max_cooldown_wait=o["max_cooldown_wait"],
        include_archived=o["include_archived"],
        max_rpm=o["max_rpm"],
        timeout_seconds=o["timeout"],
        policy=policy,
        snapshot=o["snapshot"],
    )
