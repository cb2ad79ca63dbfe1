"""The ``backup gemini`` job kind's settings, from the job file's keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.options import JobValues, job_secret
from archiver.providers.gemini.client import GeminiSettings
from archiver.providers.gemini.options import IMAGE_RPM


def settings_for(job: JobValues) -> GeminiSettings:
    """Settings from ``base_url`` and ``cookie_env`` / ``cookie_file``."""
    return GeminiSettings(
        cookie=job_secret(job, "cookie", "Gemini cookie"), base_url=job.options["base_url"]
    )


def settings_for_job(job: JobValues) -> GeminiSettings:
    return settings_for(job)


def settings_from_env(values: Mapping[str, Any]) -> GeminiSettings:
    """The Cookie header from GEMINI_COOKIE or ``--cookie-file``; the host from the
    environment."""
    return GeminiSettings.from_env(values.get("cookie_file"))


def file_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """What ``backup_gemini`` takes beyond the common options: the images."""
    mb = values.get("max_file_mb")
    return {
        # A faster account pace asked for lifts the image pace with it, never lowers it.
        "image_rpm": max(IMAGE_RPM, values["max_rpm"]),
        "files": not values.get("no_files", False),
        "max_file_bytes": None if mb is None else int(mb * 1024 * 1024),
    }
