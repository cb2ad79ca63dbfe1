"""The ``backup gemini`` job kind's settings, from the job file's keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.options import JobValues, job_secret
from archiver.providers.gemini.client import GeminiSettings
from archiver.providers.gemini.options import COOKIE


def settings_for(job: JobValues) -> GeminiSettings:
    """Settings from ``base_url`` and ``cookie_env`` / ``cookie_file``."""
    return GeminiSettings(cookie=job_secret(job, COOKIE), base_url=job.options["base_url"])


def settings_for_job(job: JobValues) -> GeminiSettings:
    return settings_for(job)


def settings_from_env(values: Mapping[str, Any]) -> GeminiSettings:
    """The Cookie header from GEMINI_COOKIE or ``--cookie-file``; the host from the
    environment."""
    return GeminiSettings.from_env(values.get("cookie_file"))
