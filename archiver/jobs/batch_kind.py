"""``archiver batch``'s whole option list and the ``batch`` job kind: the shared options
(``archiver/batch/options.py``), the provider choice, and each sending provider's own keys,
generated from the registry. The CLI and the job kind both run a batch (or ``collect``, the
provider-side batches an earlier run left waiting) through ``batch_work``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from archiver.batch.options import COMMON_BATCH_OPTIONS, batch_options
from archiver.batch.runner import BatchOptions
from archiver.errors import ConfigError
from archiver.options import JobValues, Option, one_of, positive_number, text
from archiver.providers import registry
from archiver.providers.base import Provider, Sending


def _senders() -> list[Provider]:
    return registry.with_capability("send")


def _pace(provider: Provider) -> str:
    rpm = provider.sending.default_rpm if provider.sending else None
    return f"{provider.name} {rpm:g}" if rpm else f"{provider.name} from the server's headers"


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
        + ", ".join(_pace(p) for p in _senders())
        + "].",
    ),
    **COMMON_BATCH_OPTIONS,
    **provider_keys(),
}


def sending_of(name: str) -> tuple[Provider, Sending]:
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


SettingsOf = Callable[[Provider], Any]  # a provider's settings (environment, job keys)
Work = Callable[[sqlite_utils.Database], Awaitable[Any]]


def batch_work(
    prompts: str | Path | None,
    values: Mapping[str, Any],
    settings_of: SettingsOf,
    progress: Any = None,
) -> Work:
    """What ``archiver batch`` (and the ``batch`` job kind) does under the database lock: run
    PROMPTS through ``values["provider"]``, or with ``collect`` (and no PROMPTS) collect the
    provider-side batches earlier runs left waiting. Settings of a run are read here, before
    the lock: a missing credential stops it before the database is touched."""
    from archiver.batch.runner import run_batch

    if values.get("collect"):
        if prompts is not None:
            raise ConfigError("--collect takes no PROMPTS: it fetches what earlier runs submitted")
        return lambda db: _collect(db, values, settings_of, progress)
    if prompts is None:
        raise ConfigError("no prompts CSV: give PROMPTS (in a job file: csv), or --collect")
    provider, sending = sending_of(values["provider"])
    settings = settings_of(provider)
    options = options_for(values)
    return lambda db: run_batch(db, prompts, options, settings, progress, sending=sending)


async def _collect(
    db: sqlite_utils.Database, values: Mapping[str, Any], settings_of: SettingsOf, progress: Any
) -> Any:
    """The provider whose batches wait: the one asked for, else the only one there is."""
    from archiver.batch.remote_store import open_providers
    from archiver.batch.runner import CollectSummary, collect_batches

    waiting = open_providers(db)
    name = values["provider"]
    if name not in waiting:
        if len(waiting) > 1:
            raise ConfigError(
                f"batches of several providers wait ({', '.join(waiting)}): pass --provider"
            )
        if not waiting:
            return CollectSummary(name)
        name = waiting[0]
    provider, sending = sending_of(name)
    options = options_for({**values, "provider": name})
    return await collect_batches(db, options, settings_of(provider), progress, sending=sending)


async def run_batch_job(db: sqlite_utils.Database, job: JobValues) -> Any:
    def settings_of(provider: Provider) -> Any:
        return provider.settings_for_batch(job)

    work = batch_work(job.options.get("csv"), job.options, settings_of)
    return await work(db)
