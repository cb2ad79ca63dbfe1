"""The ``backup bing`` job kind: ``backup_bing`` with settings from the job file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlite_utils

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.jobs.options import (
    Option,
    boolean,
    credential,
    http_url,
    integer,
    job_secret,
    positive_number,
)
from archiver.providers.bing.backup import backup_bing
from archiver.providers.bing.client import (
    DEFAULT_BING_BASE_URL,
    DEFAULT_SYDNEY_BASE_URL,
    BingSettings,
)

if TYPE_CHECKING:
    from archiver.jobs.config import JobConfig

OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BING_BASE_URL, "Bing host (chat list, create)"),
    "sydney_base_url": Option(http_url, DEFAULT_SYDNEY_BASE_URL, "Sydney host (history)"),
    **credential("cookie", "BING_COOKIE"),
    "concurrency": Option(integer(1, 32), 2, "requests in flight at once"),
    "max_rpm": Option(positive_number, 20.0, "requests per minute at most"),
    "full": Option(boolean, False, "mark chats no longer listed upstream (they are kept)"),
    "timeout": Option(positive_number, 120.0, "seconds to wait for a response"),
}


async def run_job(db: sqlite_utils.Database, job: JobConfig) -> BackupSummary:
    """The ``backup bing`` job kind."""
    o = job.options
    settings = BingSettings(
        cookie=job_secret(job, "cookie", "Bing cookie"),
        bing_base_url=o["base_url"],
        sydney_base_url=o["sydney_base_url"],
    )
    return await backup_bing(
        db,
        settings,
        options=BackupOptions(full=o["full"], concurrency=o["concurrency"]),
        max_rpm=o["max_rpm"],
        timeout_seconds=o["timeout"],
    )
