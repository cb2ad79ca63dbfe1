"""The ``import``, ``batch`` and ``request-export`` job kinds: each reads its options from the
job file and calls the library function the matching command calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlite_utils

from archiver.errors import ConfigError
from archiver.options import (
    Option,
    boolean,
    credential,
    http_url,
    integer,
    one_of,
    path,
    positive_number,
    text,
)
from archiver.providers import registry
from archiver.providers.chatgpt.client import DEFAULT_BASE_URL, DEFAULT_MAX_RPM
from archiver.providers.chatgpt.jobs import settings_for

if TYPE_CHECKING:
    from archiver.jobs.config import JobConfig


def _required(job: JobConfig, key: str) -> Any:
    value = job.options.get(key)
    if value is None:
        raise ConfigError(f"missing required key {key!r}")
    return value


# -- import -----------------------------------------------------------------------------------

IMPORT_OPTIONS: dict[str, Option] = {
    "path": Option(path, None, "the export zip, its unpacked folder, or conversations.json"),
    "extract_files": Option(path, None, "extract the export's files into this folder"),
    "max_file_mb": Option(positive_number, 512.0, "largest file to extract"),
    "max_total_mb": Option(positive_number, 20480.0, "most to extract in all"),
}


async def run_import_job(db: sqlite_utils.Database, job: JobConfig) -> Any:
    from archiver.importer.files import ExtractLimits
    from archiver.importer.run import import_export

    o = job.options
    limits = ExtractLimits(
        max_file_bytes=int(o["max_file_mb"] * 1024 * 1024),
        max_total_bytes=int(o["max_total_mb"] * 1024 * 1024),
    )
    return import_export(db, _required(job, "path"), extract_dir=o["extract_files"], limits=limits)


# -- batch --------------------------------------------------------------------------------------

BATCH_OPTIONS: dict[str, Option] = {
    "csv": Option(path, None, "the prompts CSV"),
    "provider": Option(one_of(*registry.names()), "chatgpt", ", ".join(registry.names())),
    "model": Option(text, None, "model slug (ChatGPT) or tone (Bing) for rows without one"),
    "template": Option(text, None, "build prompts from columns, e.g. 'Summarise {title}'"),
    "max_rpm": Option(
        positive_number, None, "requests per minute at most (default: the provider's batch pace)"
    ),
    "burst": Option(integer(1, 1000), 1, "requests that may go at once after a quiet spell"),
    "concurrency": Option(integer(1, 64), 2, "threads in flight at once"),
    "max_attempts": Option(integer(1, 100), 5, "tries per prompt for transient failures"),
    "retry_failed": Option(boolean, False, "send again the rows that failed before"),
    "cleanup": Option(boolean, False, "hide/delete the batch's conversations upstream after"),
    **{
        key: option
        for provider in registry.all_providers()
        for key, option in provider.batch_options.items()
    },
}


async def run_batch_job(db: sqlite_utils.Database, job: JobConfig) -> Any:
    from archiver.batch.runner import BatchOptions, run_batch

    o = job.options
    provider = registry.get(o["provider"])
    settings = provider.batch_settings(job)
    options = BatchOptions(
        provider=o["provider"],
        model=o["model"],
        template=o["template"],
        max_rpm=o["max_rpm"] or provider.default_batch_rpm,
        burst=o["burst"],
        concurrency=o["concurrency"],
        max_attempts=o["max_attempts"],
        retry_failed=o["retry_failed"],
        cleanup=o["cleanup"],
    )
    return await run_batch(db, _required(job, "csv"), options, settings)


# -- request-export -----------------------------------------------------------------------------

REQUEST_EXPORT_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "backend-api base URL"),
    "account_id": Option(text, None, "team workspace id (Chatgpt-Account-Id)"),
    **credential("token", "CHATGPT_ACCESS_TOKEN"),
    "max_rpm": Option(positive_number, DEFAULT_MAX_RPM, "requests per minute at most"),
}


async def run_request_export_job(db: sqlite_utils.Database, job: JobConfig) -> Any:
    from archiver.account.export_request import request_export

    return await request_export(db, settings_for(job), max_rpm=job.options["max_rpm"])
