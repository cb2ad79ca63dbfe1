"""``archiver batch``'s options that every provider shares, declared once: the click options
and the ``batch`` job kind's keys are generated from them, with each provider's own keys added
beside them from the registry (``archiver/jobs/batch_kind.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.batch.runner import BatchOptions
from archiver.cooldown import DEFAULT_MAX_COOLDOWN_WAIT, cooldown_options
from archiver.options import (
    Option,
    boolean,
    integer,
    non_negative_number,
    path,
    positive_number,
    text,
)

# A batch waits out a short model cap rather than stopping: a cap that clears within ten
# minutes costs less than a run that stops and waits for the next cron slot.
BATCH_MAX_WAIT = 600.0

COMMON_BATCH_OPTIONS: dict[str, Option] = {
    "csv": Option(
        path, None, "the prompts CSV (a job file's key; the command's argument)", cli=False
    ),
    "template": Option(
        text, None, "Build each prompt from columns, e.g. 'Summarise {title}: {body}'."
    ),
    "burst": Option(
        integer(1, 1000),
        1,
        "Requests that may go at once after a quiet spell (never beyond --max-rpm on average).",
    ),
    "concurrency": Option(integer(1, 64), 2, "Threads (conversations) in flight at once."),
    "max_attempts": Option(
        integer(1, 100),
        5,
        "Tries per prompt for transient failures (5xx, timeouts, broken streams).",
    ),
    "retry_failed": Option(boolean, False, "Also send again the rows that failed before."),
    **cooldown_options(),
    "cleanup": Option(boolean, False, "Hide/delete the conversations upstream afterwards."),
    "no_archive": Option(boolean, False, "Do not copy the conversations into the archive."),
    "timeout": Option(positive_number, 300.0, "Seconds to wait for an answer."),
    "max_wait": Option(
        non_negative_number,
        BATCH_MAX_WAIT,
        "Seconds one throttle pause (a 429, a model cap) may last; beyond it stop (exit 3) and "
        "remember the cool-down.",
    ),
    "price_in": Option(
        non_negative_number,
        None,
        "Price per million input (prompt) tokens: the results and the summary give the cost.",
    ),
    "price_out": Option(non_negative_number, None, "Price per million output (completion) tokens."),
    "batch_api": Option(
        boolean,
        False,
        "Through the provider's own batch endpoint (cheaper, answered within 24 h): submit, "
        "wait, collect. A thread's turns go in successive batches.",
    ),
    "poll_interval": Option(
        positive_number, 30.0, "Seconds between two looks at a waiting batch (--batch-api)."
    ),
    "detach": Option(
        boolean,
        False,
        "With --batch-api: collect what is finished, submit what is ready, and exit.",
    ),
    "collect": Option(
        boolean,
        False,
        "Without PROMPTS: look once at the batches --batch-api left waiting and record the "
        "finished ones (for cron).",
    ),
}


def batch_options(
    values: Mapping[str, Any],
    *,
    provider: str,
    default_rpm: float | None,
    provider_keys: Mapping[str, Option],
) -> BatchOptions:
    """BatchOptions from the values of the batch options (command line or job file): the common
    ones, and the values of ``provider_keys`` (the provider's own) for its sender."""
    return BatchOptions(
        provider=provider,
        model=values.get("model"),
        template=values.get("template"),
        max_rpm=values.get("max_rpm") or default_rpm,
        burst=values.get("burst", 1),
        concurrency=values.get("concurrency", 2),
        max_attempts=values.get("max_attempts", 5),
        retry_failed=values.get("retry_failed", False),
        cleanup=values.get("cleanup", False),
        archive=not values.get("no_archive", False),
        max_wait=values.get("max_wait", BATCH_MAX_WAIT),
        ignore_cooldown=values.get("ignore_cooldown", False),
        max_cooldown_wait=values.get("max_cooldown_wait", DEFAULT_MAX_COOLDOWN_WAIT),
        timeout_seconds=float(values.get("timeout", 300.0)),
        batch_api=values.get("batch_api", False),
        detach=values.get("detach", False),
        poll_interval=float(values.get("poll_interval", 30.0)),
        price_in=values.get("price_in"),
        price_out=values.get("price_out"),
        provider_values={
            key: values.get(key, option.default) for key, option in provider_keys.items()
        },
    )
