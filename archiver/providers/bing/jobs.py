"""The ``backup bing`` job kind: ``backup_bing`` with settings from the job file."""

from __future__ import annotations

import sqlite_utils

from archiver.backup.client_source import run_with_options
from archiver.backup.engine import BackupSummary
from archiver.options import JobValues, job_secret
from archiver.providers.bing.backup import backup_bing
from archiver.providers.bing.client import BingSettings


def settings_for(job: JobValues, prefix: str = "") -> BingSettings:
    """Settings from ``base_url``, ``sydney_base_url`` and ``cookie_*``; the batch job kind
    names the base URL ``bing_base_url``."""
    o = job.options
    return BingSettings(
        cookie=job_secret(job, "cookie", "Bing cookie"),
        bing_base_url=o["bing_base_url" if prefix else "base_url"],
        sydney_base_url=o["sydney_base_url"],
    )


# ``backup bing`` with the values of options.BACKUP_OPTIONS (from the command line or a job file).
run_backup = run_with_options(backup_bing)


async def run_job(db: sqlite_utils.Database, job: JobValues) -> BackupSummary:
    """The ``backup bing`` job kind."""
    return await run_backup(db, settings_for(job), job.options)
