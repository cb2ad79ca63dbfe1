"""Copilot's settings from a job file, and what its backup takes beyond the common options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.options import (
    JobValues,
    job_secret,
)
from archiver.providers.copilot.client import DEFAULT_USER_AGENT, CopilotSettings
from archiver.providers.copilot.options import TOKEN


def settings_for(job: JobValues) -> CopilotSettings:
    """Settings from ``base_url``, ``identity_type`` and ``token_*`` (the batch job kind names
    them ``copilot_*``, beside the other providers' keys: ``Sending.key_prefix``)."""
    o = job.options
    return CopilotSettings(
        token=job_secret(job, TOKEN),
        identity_type=o.get("identity_type"),
        base_url=o["base_url"],
        user_agent=DEFAULT_USER_AGENT,
    )


def settings_for_job(job: JobValues) -> CopilotSettings:
    return settings_for(job)


def settings_from_env(values: Mapping[str, Any]) -> CopilotSettings:
    """The token from COPILOT_ACCESS_TOKEN or a 0600 file (``--token-file``, or the batch's
    ``--copilot-token-file``); the host and account type from the environment."""
    return CopilotSettings.from_env(values.get("copilot_token_file") or values.get("token_file"))
