"""``backup_bing`` end to end against the emulator's Bing REST routes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.backup.options import BackupRun
from archiver.config import Secret
from archiver.emulator import RunningEmulator, running_emulator
from archiver.providers.bing.backup import backup_bing
from archiver.providers.bing.client import BingSettings
from archiver.providers.bing.fake.config import BingFakeConfig
from archiver.providers.bing.fake.world import world_of as bing_world
from archiver.store import open_db
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST


def run(emulator: RunningEmulator, db: Any, **options: Any) -> BackupSummary:
    settings = BingSettings(
        Secret(BingFakeConfig().cookie),
        bing_base_url=emulator.base_url,
        sydney_base_url=emulator.base_url,
    )
    return asyncio.run(
        backup_bing(
            db, settings, BackupRun(ClientPace(None, policy=FAST), BackupOptions(**options))
        )
    )


@pytest.mark.parametrize("times_in_seconds", [False, True])
def test_backup_against_the_emulator(tmp_path: Path, times_in_seconds: bool) -> None:
    with running_emulator(
        fake_config(bing_chats=12, chatgpt_conversations=0, bing_times_in_seconds=times_in_seconds)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        first = run(emu, db)
        assert first.exit_code == 0, first.errors
        assert (first.listed, first.new) == (12, 12)
        visible = db.execute(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.provider = 'bing' AND m.is_hidden = 0 AND m.role = 'user'"
        ).fetchone()[0]
        assert visible >= 12
        bad_times = db.execute(
            "SELECT count(*) FROM conversations WHERE update_time NOT LIKE '20%'"
        ).fetchone()[0]
        assert bad_times == 0

        second = run(emu, db)
        assert (second.requests, second.fetched, second.unchanged) == (1, 0, 12)

        gone = next(iter(bing_world(emu.state).chats))
        bing_world(emu.state).chats[gone].deleted = True
        full = run(emu, db, full=True)
        assert full.marked_deleted == 1
        marked = db.execute(
            "SELECT id FROM conversations WHERE deleted_upstream_at IS NOT NULL"
        ).fetchall()
        assert marked == [(gone,)]


def test_wrong_cookie_is_refused(tmp_path: Path) -> None:
    with running_emulator(fake_config(bing_chats=2, chatgpt_conversations=0)) as emu:
        settings = BingSettings(
            Secret("wrong"), bing_base_url=emu.base_url, sydney_base_url=emu.base_url
        )
        db = open_db(tmp_path / "a.db")
        summary = asyncio.run(backup_bing(db, settings, BackupRun(ClientPace(None, policy=FAST))))
        assert summary.exit_code == 2
        assert "Bing cookie was refused" in summary.errors[0]
