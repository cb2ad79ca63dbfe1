"""The ``backup chatgpt`` job kind, and ``run_backup`` (the cool-down and full-reconcile
around ``backup_chatgpt``) that both ``archiver run`` and ``archiver backup chatgpt`` use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from archiver.backup.engine import BackupSummary
from archiver.backup.options import FileDownloads, backup_options, backup_pace
from archiver.cooldown import (
    remember_cooldown,
)
from archiver.errors import ConfigError
from archiver.options import (
    JobValues,
    job_secret,
)
from archiver.progress import Progress
from archiver.providers.chatgpt.backup import ChatGPTExtras, backup_chatgpt
from archiver.providers.chatgpt.browser import BrowserProfile
from archiver.providers.chatgpt.client import ChatGPTSettings, choose_transport
from archiver.providers.chatgpt.options import PROVIDER, SESSION_ENV, TOKEN
from archiver.providers.chatgpt.session import SessionAuth
from archiver.store.sync import last_full_at
from archiver.timeutil import to_datetime
from archiver.transport.http import RetryPolicy


def full_reconcile_due(
    db: sqlite_utils.Database, settings: ChatGPTSettings, every_days: int | None
) -> bool:
    """True when a periodic full walk is due: never done, or the last one is too old."""
    if not every_days:
        return False
    last = to_datetime(last_full_at(db, PROVIDER, settings.account, settings.base_url))
    return last is None or last <= datetime.now(tz=UTC) - timedelta(days=every_days)


def settings_for(job: JobValues) -> ChatGPTSettings:
    """The session cookie when the job names a session_file, or its session_env variable is
    set; else the access token (token_file / token_env)."""
    o = job.options
    session = None
    session_env = o.get("session_env")
    session_file = o.get("session_file")
    if o.get("token_file") is None and (session_env or session_file):
        session = SessionAuth.from_sources(
            env_var=session_env or SESSION_ENV, session_file=session_file
        )
        if session is None:
            raise ConfigError(
                f"no ChatGPT session cookie: set the environment variable {session_env} "
                "(session_env), or point session_file at a 0600 file"
            )
    return ChatGPTSettings(
        base_url=o["base_url"],
        token=None if session else job_secret(job, TOKEN),
        account_id=o["account_id"],
        session=session,
    )


def with_browser_options(settings: ChatGPTSettings, o: Mapping[str, Any]) -> ChatGPTSettings:
    """--user-agent / --transport (or the job keys) over what the environment said."""
    if o.get("user_agent"):
        settings = replace(settings, browser=BrowserProfile.from_env(user_agent=o["user_agent"]))
    if o.get("transport"):
        settings = replace(settings, transport=choose_transport(o["transport"]))
    return settings


def extras_for(o: Mapping[str, Any]) -> ChatGPTExtras:
    return ChatGPTExtras(files=FileDownloads.from_values(o))


async def run_backup(
    db: sqlite_utils.Database,
    settings: ChatGPTSettings,
    values: Mapping[str, Any],
    progress: Progress | None = None,
    *,
    policy: RetryPolicy | None = None,
) -> BackupSummary:
    """``backup chatgpt`` with the values of OPTIONS (from the command line or a job file):
    a full reconcile when one is due, and the cool-down this run ends with stored (the stored
    one was checked before: jobs.cooldown.unless_cooling_down)."""
    settings = with_browser_options(settings, values)
    options = backup_options(values)
    if not options.full and full_reconcile_due(db, settings, values["full_every_days"]):
        options = replace(options, full=True)
    pace = backup_pace(values, policy)
    limiter = pace.limiter()  # ours, to read the pause the run ends with
    summary = await backup_chatgpt(
        db,
        settings,
        options=options,
        include_archived=not values["no_archived"],
        pace=pace,
        progress=progress,
        snapshot=not values["no_snapshot"],
        limiter=limiter,
        extras=extras_for(values),
    )
    remember_cooldown(db, PROVIDER, settings.account, limiter, summary.aborted)
    return summary


async def run_job(
    db: sqlite_utils.Database, job: JobValues, *, policy: RetryPolicy | None = None
) -> BackupSummary:
    """The ``backup chatgpt`` job kind."""
    return await run_backup(db, settings_for(job), job.options, policy=policy)


back_up = run_backup  # the name the contract gives it (archiver/providers/modules.py)


def settings_for_job(job: JobValues) -> ChatGPTSettings:
    return settings_for(job)


def settings_from_env(values: Mapping[str, Any]) -> ChatGPTSettings:
    """The access token (``--token-file`` or CHATGPT_ACCESS_TOKEN), or the browser's session
    cookie (``--session-file`` or CHATGPT_SESSION_TOKEN)."""
    return ChatGPTSettings.from_env(
        values.get("token_file"), session_file=values.get("session_file")
    )
