"""Claude's settings from a job file (the ``backup claude`` kind, and Claude's keys of the
``batch`` kind), and what its backup takes beyond the common options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.options import JobValues, job_secret
from archiver.providers.claude.client import DEFAULT_USER_AGENT, ClaudeSettings
from archiver.providers.claude.options import SESSION


def settings_for(job: JobValues) -> ClaudeSettings:
    """Settings from ``base_url`` and ``session_*`` (the batch job kind names them
    ``claude_*``, beside the other providers' keys: ``Sending.key_prefix``)."""
    return ClaudeSettings(
        session=job_secret(job, SESSION),
        base_url=job.options["base_url"],
        user_agent=DEFAULT_USER_AGENT,
    )


def settings_for_job(job: JobValues) -> ClaudeSettings:
    return settings_for(job)


def settings_from_env(values: Mapping[str, Any]) -> ClaudeSettings:
    """The session key from CLAUDE_SESSION_KEY or a 0600 file (``--session-file``, or the
    batch's ``--claude-session-file``); the host from the environment."""
    return ClaudeSettings.from_env(values.get("claude_session_file") or values.get("session_file"))
