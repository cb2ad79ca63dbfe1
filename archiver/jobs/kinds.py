"""The registry of job kinds: kind name → the options it accepts and the async function that
runs it. Adding a kind is one entry in ``KINDS``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import sqlite_utils

from archiver.batch.options import BATCH_OPTIONS
from archiver.errors import ConfigError
from archiver.jobs import engine_kinds, import_kind
from archiver.jobs.cooldown import unless_cooling_down
from archiver.options import JobValues, Option
from archiver.providers import registry
from archiver.recorder import RunSummary

JobFunction = Callable[[sqlite_utils.Database, JobValues], Awaitable[RunSummary]]


@dataclass(frozen=True)
class JobKind:
    name: str
    options: Mapping[str, Option]
    run: JobFunction


def backup_kind(provider: registry.Provider) -> JobKind:
    """``backup NAME``: the provider's backup with its settings from the job's keys."""

    async def run(db: sqlite_utils.Database, job: JobValues) -> RunSummary:
        settings = provider.settings_for_job(job)

        async def backup() -> RunSummary:
            summary: RunSummary = await provider.run_backup(db, settings, job.options)
            return summary

        account: str = settings.account
        return await unless_cooling_down(db, provider.name, account, job.options, backup)

    return JobKind(provider.backup_kind, provider.backup_options, run)


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        *(backup_kind(provider) for provider in registry.all_providers()),
        JobKind("import", import_kind.IMPORT_OPTIONS, import_kind.run_import_job),
        JobKind("batch", BATCH_OPTIONS, engine_kinds.run_batch_job),
        JobKind(
            "request-export",
            engine_kinds.REQUEST_EXPORT_OPTIONS,
            engine_kinds.run_request_export_job,
        ),
    )
}


def get_kind(name: str) -> JobKind:
    kind = KINDS.get(name)
    if kind is not None:
        return kind
    known = sorted(KINDS)
    raise ConfigError(f"unknown job kind {name!r} (known kinds: {', '.join(known)})")
