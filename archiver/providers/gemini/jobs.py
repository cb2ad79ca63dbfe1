"""The ``backup gemini`` job kind: ``backup_gemini`` with settings from the job file."""

from __future__ import annotations

from archiver.backup.client_source import run_with_options
from archiver.options import JobValues, job_secret
from archiver.providers.gemini.backup import backup_gemini
from archiver.providers.gemini.client import GeminiSettings


def settings_for(job: JobValues) -> GeminiSettings:
    """Settings from ``base_url`` and ``cookie_env`` / ``cookie_file``."""
    return GeminiSettings(
        cookie=job_secret(job, "cookie", "Gemini cookie"), base_url=job.options["base_url"]
    )


# ``backup gemini`` with the values of BACKUP_OPTIONS (from the command line or a job file).
run_backup = run_with_options(backup_gemini)
