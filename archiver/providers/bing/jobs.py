"""The ``backup bing`` job kind: ``backup_bing`` with settings from the job file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlite_utils

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.options import (
    Option,
    boolean,
    credential,
    http_url,
    integer,
    job_secret,
    positive_number,
)
from archiver.progress import Progress
from archiver.providers.bing.backup import backup_bing
from archiver.providers.bing.client import (
    DEFAULT_BING_BASE_URL,
    DEFAULT_SYDNEY_BASE_URL,
    BingSettings,
)

if TYPE_CHECKING:
    from archiver.jobs.config import JobConfig

OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BING_BASE_URL, "Bing host (chat list, create)", cli=False),
    "sydney_base_url": Option(
        http_url, DEFAULT_SYDNEY_BASE_URL, "Sydney host (history)", cli=False
    ),
    **credential("cookie", "BING_COOKIE"),
    "concurrency": Option(integer(1, 32), 2, "requests in flight at once"),
    "max_rpm": Option(positive_number, 20.0, "requests per minute at most"),
    "full": Option(boolean, False, "mark chats no longer listed upstream (they are kept)"),
    "timeout": Option(positive_number, 120.0, "seconds to wait for a response"),
}


def settings_for(job: JobConfig, prefix: str = "") -> BingSettings:
    """Settings from ``base_url``, ``sydney_base_url`` and ``cookie_*``; the batch job kind
    names the base URL ``bing_base_url``."""
    o = job.options
    return BingSettings(
        cookie=job_secret(job, "cookie", "Bing cookie"),
        bing_base_url=o["bing_base_url" if prefix else "base_url"],
        sydney_base_url=o["sydney_base_url"],
    )


async def run_backup(
    db: sqlite_utils.Database,
    settings: BingSettings,
    o: Mapping[str, Any],
    progress: Progress | None = None,
) -> BackupSummary:
    """``backup bing`` with the values of OPTIONS (from the command line or a job file)."""
    return await backup_bing(
        db,
        settings,
        options=BackupOptions(full=o["full"], concurrency=o["concurrency"]),
        max_rpm=o["max_rpm"],
        timeout_seconds=o["timeout"],
        progress=progress,
    )


async def run_job(db: sqlite_utils.Database, job: JobConfig) -> BackupSummary:
    """The ``backup bing`` job kind."""
    return await run_backup(db, settings_for(job), job.options)
