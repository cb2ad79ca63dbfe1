"""The ``backup gemini`` job kind's settings, from the job file's keys."""

from __future__ import annotations

from archiver.options import JobValues, job_secret
from archiver.providers.gemini.client import GeminiSettings


def settings_for(job: JobValues) -> GeminiSettings:
    """Settings from ``base_url`` and ``cookie_env`` / ``cookie_file``."""
    return GeminiSettings(
        cookie=job_secret(job, "cookie", "Gemini cookie"), base_url=job.options["base_url"]
    )
