"""The ``request-export`` job kind (ChatGPT's account tool; ``import`` and ``batch`` have
modules of their own, and each provider's backup is a ``backup NAME`` kind): it reads its
options from the job file and calls the library function the command calls."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from archiver.options import JobValues, Option, http_url, positive_number, text
from archiver.providers.chatgpt.jobs import settings_for
from archiver.providers.chatgpt.options import DEFAULT_BASE_URL, DEFAULT_MAX_RPM, sign_in_options

# -- request-export -----------------------------------------------------------------------------

REQUEST_EXPORT_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "backend-api base URL"),
    "account_id": Option(text, None, "team workspace id (Chatgpt-Account-Id)"),
    **sign_in_options(),
    "max_rpm": Option(positive_number, DEFAULT_MAX_RPM, "requests per minute at most"),
}


async def run_request_export_job(db: sqlite_utils.Database, job: JobValues) -> Any:
    from archiver.providers.chatgpt.export_request import request_export
    from archiver.transport.pace import ClientPace

    return await request_export(db, settings_for(job), pace=ClientPace(job.options["max_rpm"]))
