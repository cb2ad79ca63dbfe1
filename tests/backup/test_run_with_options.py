"""``run_with_options``: the common backup values, and a provider's own through ``extra``."""

from __future__ import annotations

import asyncio
from typing import Any

from archiver.backup.client_source import run_with_options
from archiver.providers.copilot.jobs import _file_values
from archiver.providers.copilot.options import BACKUP_OPTIONS as COPILOT_OPTIONS

VALUES = {
    "full": True,
    "force": True,
    "concurrency": 3,
    "max_rpm": 200.0,
    "max_wait": 7.0,
    "timeout": 9.0,
}


def called_with(values: dict[str, Any], extra: Any = None) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def backup(db: Any, settings: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return "summary"

    assert asyncio.run(run_with_options(backup, extra)(None, None, values)) == "summary"
    return seen


def test_common_values_reach_the_backup() -> None:
    seen = called_with(VALUES)
    options = seen["options"]
    assert (options.full, options.force, options.concurrency) == (True, True, 3)
    assert seen["pace"].max_rpm == 200.0
    assert seen["pace"].policy.max_wait == 7.0
    assert seen["pace"].timeout_seconds == 9.0


def test_copilot_adds_its_image_values() -> None:
    seen = called_with({**VALUES, "no_files": True, "max_file_mb": 2}, _file_values)
    assert seen["files"] is False
    assert seen["max_file_bytes"] == 2 * 1024 * 1024
    assert seen["image_rpm"] == 200.0  # a faster account pace lifts the image pace
    assert seen["options"].force is True  # declared in its options: no longer ignored
    assert {"force", "max_wait"} <= set(COPILOT_OPTIONS)
