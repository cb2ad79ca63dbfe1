"""The gateway tests: one emulator and one gateway per test (their state is what is checked),
keys made through the same code ``archiver keys add`` uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archiver.emulator import RunningEmulator, running_emulator
from archiver.serve.keys import add_key
from archiver.store import open_db
from tests.support.fakes import fake_config
from tests.support.gateway import RunningGateway, running_gateway


@dataclass
class Keys:
    user: str
    admin: str


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with running_emulator(fake_config(chatgpt_conversations=0, bing_chats=0)) as running:
        yield running


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture
def keys(db_path: Path) -> Keys:
    db = open_db(db_path)
    made = Keys(user=add_key(db, "alice"), admin=add_key(db, "root", admin=True))
    db.close()
    return made


@pytest.fixture
def gw(db_path: Path, keys: Keys, emu: RunningEmulator) -> Iterator[RunningGateway]:
    with running_gateway(db_path, emu) as running:
        yield running
