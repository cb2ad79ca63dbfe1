"""Running a batch the way the CLI does, from a provider's name: its options, and its sender
from the registry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from archiver.batch import BatchOptions, run_batch
from archiver.providers import registry


def batch_options(provider: str, **values: Any) -> BatchOptions:
    return BatchOptions(provider=provider, **values)


def run_provider_batch(
    db: Any,
    csv: str | Path,
    options: BatchOptions,
    settings: Any,
    progress: Any = None,
) -> Any:
    """``run_batch`` through ``options.provider``'s sender."""
    sending = registry.get(options.provider).sending
    assert sending is not None
    return asyncio.run(run_batch(db, csv, options, settings, progress, sending=sending))
