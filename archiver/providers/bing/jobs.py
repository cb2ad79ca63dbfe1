"""The ``backup bing`` job kind: ``backup_bing`` with settings from the job file."""

from __future__ import annotations

import sqlite_utils

from archiver.backup.client_source import run_with_options
from archiver.backup.engine import BackupSummary
from archiver.backup.options import common_backup_options
from archiver.options import (
    JobValues,
    Option,
    credential,
    http_url,
    job_secret,
)
from archiver.providers.bing.backup import backup_bing
from archiver.providers.bing.client import (
    DEFAULT_BING_BASE_URL,
    DEFAULT_SYDNEY_BASE_URL,
    BingSettings,
)


def host_options(base_url_key: str) -> dict[str, Option]:
    """The hosts and the cookie. ``backup bing`` names the Bing host ``base_url``; the batch job
    kind, beside the other providers' keys, ``bing_base_url``."""
    return {
        base_url_key: Option(
            http_url, DEFAULT_BING_BASE_URL, "Bing host (chat list, create)", cli=False
        ),
        "sydney_base_url": Option(
            http_url, DEFAULT_SYDNEY_BASE_URL, "Sydney host (history, ChatHub)", cli=False
        ),
        **credential("cookie", "BING_COOKIE"),
    }


OPTIONS: dict[str, Option] = {
    **host_options("base_url"),
    **common_backup_options(default_rpm=20.0, listed="chats"),
}


def settings_for(job: JobValues, prefix: str = "") -> BingSettings:
    """Settings from ``base_url``, ``sydney_base_url`` and ``cookie_*``; the batch job kind
    names the base URL ``bing_base_url``."""
    o = job.options
    return BingSettings(
        cookie=job_secret(job, "cookie", "Bing cookie"),
        bing_base_url=o["bing_base_url" if prefix else "base_url"],
        sydney_base_url=o["sydney_base_url"],
    )


# ``backup bing`` with the values of OPTIONS (from the command line or a job file).
run_backup = run_with_options(backup_bing)


async def run_job(db: sqlite_utils.Database, job: JobValues) -> BackupSummary:
    """The ``backup bing`` job kind."""
    return await run_backup(db, settings_for(job), job.options)
