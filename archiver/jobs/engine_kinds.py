"""The ``batch`` and ``request-export`` job kinds (``import`` has its own module, and each
provider registers its own ``backup NAME`` kind): each reads its options from the job file and
calls the library function the matching command calls."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from archiver.jobs.import_kind import required
from archiver.options import JobValues, Option, http_url, positive_number, text
from archiver.providers import registry
from archiver.providers.chatgpt.client import DEFAULT_BASE_URL, DEFAULT_MAX_RPM
from archiver.providers.chatgpt.jobs import settings_for, sign_in_options


async def run_batch_job(db: sqlite_utils.Database, job: JobValues) -> Any:
    from archiver.batch.options import batch_options
    from archiver.batch.runner import run_batch

    settings = registry.get(job.options["provider"]).batch_settings(job)
    return await run_batch(db, required(job, "csv"), batch_options(job.options), settings)


# -- request-export -----------------------------------------------------------------------------

REQUEST_EXPORT_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "backend-api base URL"),
    "account_id": Option(text, None, "team workspace id (Chatgpt-Account-Id)"),
    **sign_in_options(),
    "max_rpm": Option(positive_number, DEFAULT_MAX_RPM, "requests per minute at most"),
}


async def run_request_export_job(db: sqlite_utils.Database, job: JobValues) -> Any:
    from archiver.account.export_request import request_export
    from archiver.transport.pace import ClientPace

    return await request_export(db, settings_for(job), pace=ClientPace(job.options["max_rpm"]))
