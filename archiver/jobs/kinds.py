"""The registry of job kinds: kind name → the options it accepts and the async function that
runs it. Each provider's backup is a ``backup NAME`` kind and each of its account tools
declared ``job_kind`` a kind of the tool's name, generated from the provider registry;
``import`` and ``batch`` have modules of their own. Adding a kind is one entry in ``KINDS``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import sqlite_utils

from archiver.cooldown import unless_cooling_down
from archiver.errors import ConfigError
from archiver.jobs import batch_kind, import_kind
from archiver.options import JobValues, Option
from archiver.providers import registry
from archiver.providers.base import Backup, Provider, Tool, Tools
from archiver.recorder import RunSummary

JobFunction = Callable[[sqlite_utils.Database, JobValues], Awaitable[RunSummary]]


@dataclass(frozen=True)
class JobKind:
    name: str
    options: Mapping[str, Option]
    run: JobFunction


def backup_kind(provider: Provider, backup: Backup) -> JobKind:
    """``backup NAME``: the provider's backup with its settings from the job's keys."""

    async def run(db: sqlite_utils.Database, job: JobValues) -> RunSummary:
        settings = provider.settings_for_job(job)

        async def run_backup() -> RunSummary:
            summary: RunSummary = await backup.run(db, settings, job.options)
            return summary

        account: str = settings.account
        return await unless_cooling_down(db, provider.name, account, job.options, run_backup)

    return JobKind(provider.backup_kind, backup.options, run)


def tool_kind(tools: Tools, tool: Tool) -> JobKind:
    """An account tool declared ``job_kind``: its options are the job's keys."""

    async def run(db: sqlite_utils.Database, job: JobValues) -> RunSummary:
        return await tools.run_job(tool, db, job)

    return JobKind(tool.name, tool.options, run)


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        *(
            backup_kind(provider, provider.backup)
            for provider in registry.all_providers()
            if provider.backup is not None
        ),
        JobKind("import", import_kind.IMPORT_OPTIONS, import_kind.run_import_job),
        JobKind("batch", batch_kind.BATCH_OPTIONS, batch_kind.run_batch_job),
        *(
            tool_kind(provider.tools, tool)
            for provider in registry.all_providers()
            if provider.tools is not None
            for tool in provider.tools.tools
            if tool.job_kind
        ),
    )
}


def get_kind(name: str) -> JobKind:
    kind = KINDS.get(name)
    if kind is not None:
        return kind
    known = sorted(KINDS)
    raise ConfigError(f"unknown job kind {name!r} (known kinds: {', '.join(known)})")
