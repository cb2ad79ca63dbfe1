"""ChatGPT's account tools (``base.Tools``): ``archiver shared``, ``titles`` and
``request-export``, and the ``request-export`` job kind. Each tool's run is planned from its
flags here: whether it writes (under the lock, recorded in `runs`), whether it signs in, and
what it prints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlite_utils

from archiver.config import env_base_url
from archiver.options import JobValues
from archiver.providers.chatgpt.export_request import ExportRequestSummary, request_export
from archiver.providers.chatgpt.jobs import settings_for, settings_from_env
from archiver.providers.chatgpt.options import BASE_URL_ENV, DEFAULT_BASE_URL
from archiver.providers.chatgpt.shared import SharedReport, shared_links_report
from archiver.providers.chatgpt.titles import TitlesSummary, generate_titles
from archiver.providers.modules import ToolCall
from archiver.summary import Summary
from archiver.transport.pace import ClientPace


def shared(values: Mapping[str, Any]) -> ToolCall:
    refresh = values["refresh"]
    settings = settings_from_env(values) if refresh else None
    base_url = env_base_url(BASE_URL_ENV, DEFAULT_BASE_URL)

    async def work(db: sqlite_utils.Database) -> SharedReport:
        return await shared_links_report(
            db,
            settings=settings,
            include_deleted=values["include_deleted"],
            pace=ClientPace(values["max_rpm"]),
            base_url=base_url,
        )

    # With --refresh it writes. The listing is the answer: -q hides only the summary line.
    return ToolCall(
        work,
        job="shared" if refresh else None,
        kind="shared --refresh",
        lines=SharedReport.lines,
        lines_when_quiet=True,
    )


def title_lines(summary: TitlesSummary) -> list[str]:
    """One line per conversation asked about (or that would be, on a dry run)."""
    lines = []
    for change in summary.changes:
        old = change.old if change.old is not None else "(none)"
        if change.how == "would-ask":
            lines.append(f"would ask  {change.conversation_id}  {old}")
        else:
            lines.append(f"{change.how:<9}  {change.conversation_id}  {old} -> {change.new}")
    return lines


def titles(values: Mapping[str, Any]) -> ToolCall:
    dry_run = values["dry_run"]
    settings = None if dry_run else settings_from_env(values)

    async def work(db: sqlite_utils.Database) -> TitlesSummary:
        return await generate_titles(
            db,
            settings,
            missing_only=not values["all_conversations"],
            dry_run=dry_run,
            pace=ClientPace(values["max_rpm"]),
        )

    # Unless a dry run it writes.
    return ToolCall(work, job=None if dry_run else "titles", lines=title_lines)


def export_request(values: Mapping[str, Any]) -> ToolCall:
    settings = settings_from_env(values)  # before the database: no token, no change

    async def work(db: sqlite_utils.Database) -> ExportRequestSummary:
        return await request_export(db, settings)

    return ToolCall(work, job="request-export")


TOOLS: dict[str, Callable[[Mapping[str, Any]], ToolCall]] = {
    "shared": shared,
    "titles": titles,
    "request-export": export_request,
}


def open_tool(name: str, values: Mapping[str, Any]) -> ToolCall:
    return TOOLS[name](values)


async def run_tool_job(name: str, db: sqlite_utils.Database, job: JobValues) -> Summary:
    if name != "request-export":  # pragma: no cover - only a tool declared job_kind gets here
        raise ValueError(f"{name} is not a job kind")
    return await request_export(db, settings_for(job), pace=ClientPace(job.options["max_rpm"]))
