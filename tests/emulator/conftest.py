"""The emulator tests share one read-mostly emulator per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archiver.emulator import EmulatorConfig, RunningEmulator, running_emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(conversations=60, bing_chats=8)) as running:
        yield running
