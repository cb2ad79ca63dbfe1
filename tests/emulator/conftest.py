"""The emulator tests share one read-mostly emulator per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archiver.emulator import RunningEmulator, running_emulator
from tests.support.fakes import fake_config


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with running_emulator(fake_config(chatgpt_conversations=60, bing_chats=8)) as running:
        yield running
