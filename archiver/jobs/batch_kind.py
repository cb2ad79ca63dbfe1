"""``archiver batch``'s whole option list and the ``batch`` job kind: the shared options
(``archiver/batch/options.py``), the provider choice, and each sending provider's own keys,
generated from the registry. The CLI and the job kind both run a batch through ``prepare``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlite_utils

from archiver.batch.options import COMMON_BATCH_OPTIONS, batch_options
from archiver.batch.runner import BatchOptions
from archiver.errors import ConfigError
from archiver.options import JobValues, Option, one_of, positive_number, text
from archiver.providers import registry
from archiver.providers.base import Provider, Sending


def _senders() -> list[Provider[Any]]:
    return registry.with_capability("send")


def provider_keys() -> dict[str, Option]:
    """Every sending provider's own keys, once each; the same key declared differently by
    two providers is a registration mistake, caught here."""
    keys: dict[str, Option] = {}
    for provider in _senders():
        assert provider.sending is not None
        for key, option in provider.sending.options.items():
            if key in COMMON_BATCH_OPTIONS or (key in keys and keys[key] != option):
                raise TypeError(f"{provider.name} declares batch key {key!r} another one has")
            keys[key] = option
    return keys


BATCH_OPTIONS: dict[str, Option] = {
    "provider": Option(
        one_of(*(p.name for p in _senders())),
        _senders()[0].name,
        "The account (or API) to send through.",
    ),
    "model": Option(
        text,
        None,
        "For rows without a model column: "
        + "; ".join(f"{p.name}: {p.sending.model_help}" for p in _senders() if p.sending)
        + ".",
    ),
    "max_rpm": Option(
        positive_number,
        None,
        "Requests per minute at most, for the whole account [default: the provider's pace: "
        + ", ".join(f"{p.name} {p.sending.default_rpm:g}" for p in _senders() if p.sending)
        + "].",
    ),
    **COMMON_BATCH_OPTIONS,
    **provider_keys(),
}


def sending_of(name: str) -> tuple[Provider[Any], Sending[Any]]:
    provider = registry.get(name)  # ConfigError for an unknown one
    if provider.sending is None:
        raise ConfigError(f"{provider.title} cannot send prompts")
    return provider, provider.sending


def options_for(values: Mapping[str, Any]) -> BatchOptions:
    """BatchOptions from the values of BATCH_OPTIONS (command line or job file)."""
    provider, sending = sending_of(values["provider"])
    return batch_options(
        values,
        provider=provider.name,
        default_rpm=sending.default_rpm,
        provider_keys=sending.options,
    )


async def run_batch_job(db: sqlite_utils.Database, job: JobValues) -> Any:
    from archiver.batch.runner import run_batch
    from archiver.jobs.import_kind import required

    _, sending = sending_of(job.options["provider"])
    settings = sending.settings_for_batch(job)
    return await run_batch(
        db, required(job, "csv"), options_for(job.options), settings, sending=sending
    )
