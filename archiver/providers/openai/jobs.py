"""The API's settings: from the command line (OPENAI_API_KEY or ``--key-file``, OPENAI_BASE_URL)
and from a job file's keys (``key_env``/``key_file``, ``openai_base_url``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.options import JobValues, job_secret
from archiver.providers.openai.client import OpenAISettings
from archiver.providers.openai.options import KEY


def settings_from_env(values: Mapping[str, Any]) -> OpenAISettings:
    return OpenAISettings.from_env(values.get("key_file"))


def settings_for_job(job: JobValues) -> OpenAISettings:
    return OpenAISettings(key=job_secret(job, KEY), base_url=job.options["openai_base_url"])
