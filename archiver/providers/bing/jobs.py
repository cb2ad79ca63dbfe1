"""Bing's settings from a job file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.options import JobValues, job_secret
from archiver.providers.bing.client import BingSettings
from archiver.providers.bing.options import COOKIE


def settings_for(job: JobValues) -> BingSettings:
    """Settings from ``base_url``, ``sydney_base_url`` and ``cookie_*`` (the batch job kind
    names the base URL ``bing_base_url``: ``Sending.key_prefix``)."""
    o = job.options
    return BingSettings(
        cookie=job_secret(job, COOKIE),
        bing_base_url=o["base_url"],
        sydney_base_url=o["sydney_base_url"],
    )


def settings_for_job(job: JobValues) -> BingSettings:
    return settings_for(job)


def settings_from_env(values: Mapping[str, Any]) -> BingSettings:
    """The cookie from BING_COOKIE or ``--cookie-file``; the hosts from the environment."""
    return BingSettings.from_env(values.get("cookie_file"))
