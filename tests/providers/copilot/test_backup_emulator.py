"""``backup_copilot`` end to end against the emulator's Copilot routes."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.backup.options import BackupRun
from archiver.config import Secret
from archiver.emulator import RunningEmulator, running_emulator
from archiver.providers.copilot.backup import backup_copilot
from archiver.providers.copilot.client import CopilotSettings
from archiver.providers.copilot.fake.config import CopilotFakeConfig
from archiver.providers.copilot.fake.world import world_of as copilot_world
from archiver.store import open_db
from archiver.transport.connect import use_transport
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST, Fault, ScriptedFaults

TOKEN = CopilotFakeConfig().token


def run(
    emulator: RunningEmulator,
    db: Any,
    token: str = TOKEN,
    identity: str | None = None,
    **options: Any,
) -> BackupSummary:
    settings = CopilotSettings(Secret(token), identity_type=identity, base_url=emulator.base_url)
    return asyncio.run(
        backup_copilot(
            db, settings, BackupRun(ClientPace(None, policy=FAST), BackupOptions(**options))
        )
    )


def routes(emulator: RunningEmulator) -> list[str]:
    return [e["route"] for e in emulator.request_log]


@pytest.mark.parametrize("repeat_cursor", [False, True])
def test_first_run_no_change_run_and_full(tmp_path: Path, repeat_cursor: bool) -> None:
    with running_emulator(
        fake_config(
            copilot_chats=20,
            chatgpt_conversations=0,
            bing_chats=0,
            copilot_repeat_last_cursor=repeat_cursor,
        )
    ) as emu:
        db = open_db(tmp_path / "a.db")
        first = run(emu, db)
        assert first.exit_code == 0, first.errors
        assert (first.listed, first.new) == (20, 20)
        list_pages = math.ceil(20 / copilot_world(emu.state).config.page_size)
        # Every history stored oldest first, one row per message, as the emulator holds it.
        for cid, chat in copilot_world(emu.state).chats.items():
            stored = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM messages WHERE conversation_id = ? ORDER BY depth", [cid]
                )
            ]
            assert stored == [m["id"] for m in chat.messages or []]
        providers = db.execute("SELECT DISTINCT provider FROM conversations").fetchall()
        assert providers == [("copilot",)]
        assert db.execute("SELECT count(*) FROM attachments").fetchone()[0] > 0

        log_before = len(emu.request_log)
        second = run(emu, db)
        assert (second.fetched, second.unchanged) == (0, 20)
        assert second.requests == list_pages
        assert set(routes(emu)[log_before:]) == {"/c/api/conversations"}

        touched = sorted(copilot_world(emu.state).chats)[3]
        asyncio.run(_touch(emu, touched))
        third = run(emu, db)
        assert (third.fetched, third.updated, third.unchanged) == (1, 1, 19)
        texts = [
            r[0]
            for r in db.execute(
                "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' ORDER BY depth",
                [touched],
            )
        ]
        assert texts[-1] == "Touched again"

        gone = sorted(copilot_world(emu.state).chats)[0]
        copilot_world(emu.state).chats[gone].deleted = True
        plain = run(emu, db)
        assert plain.marked_deleted == 0  # only --full concludes something is gone
        full = run(emu, db, full=True)
        assert full.marked_deleted == 1
        marked = db.execute(
            "SELECT id FROM conversations WHERE deleted_upstream_at IS NOT NULL"
        ).fetchall()
        assert marked == [(gone,)]
        kept = db.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", [gone])
        assert kept.fetchone()[0] > 0  # nothing archived is deleted


async def _touch(emu: RunningEmulator, cid: str) -> None:
    import aiohttp

    url = f"{emu.base_url}/_emulator/copilot/touch/{cid}"
    async with aiohttp.ClientSession() as session, session.post(url) as response:
        assert response.status == 200


def test_502s_and_dropped_connections_are_retried(tmp_path: Path) -> None:
    script = [
        Fault("GET", r"^/c/api/conversations$", "status:502"),
        Fault("GET", r"/history$", "cut"),
        Fault("GET", r"/history$", "status:503", nth=3),
        Fault("GET", r"/history$", "timeout", nth=5),
    ]
    with (
        running_emulator(
            fake_config(copilot_chats=15, chatgpt_conversations=0, bing_chats=0)
        ) as emu,
        use_transport(wrap=lambda inner: ScriptedFaults(inner, script)),
    ):
        db = open_db(tmp_path / "a.db")
        summary = run(emu, db)
    assert summary.exit_code == 0, summary.errors
    assert summary.new == 15
    assert all(fault.hit for fault in script)


def test_refused_token_stops_with_exit_2(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(copilot_chats=3, chatgpt_conversations=0, bing_chats=0)
    ) as emu:
        summary = run(emu, open_db(tmp_path / "a.db"), token="wrong-token-secret")
    assert summary.exit_code == 2
    assert "the Copilot token was refused" in summary.errors[0]
    assert "about a day" in summary.errors[0]
    assert "wrong-token-secret" not in " ".join(summary.errors)


def test_identity_type_is_sent(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(
            copilot_chats=3, chatgpt_conversations=0, bing_chats=0, copilot_identity_type="google"
        )
    ) as emu:
        without = run(emu, open_db(tmp_path / "a.db"))
        with_it = run(emu, open_db(tmp_path / "b.db"), identity="google")
    assert without.exit_code == 2
    assert with_it.exit_code == 0 and with_it.new == 3


def test_cloudflare_page_stops_with_exit_3(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(copilot_chats=3, chatgpt_conversations=0, bing_chats=0, challenge_rate=1.0)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(emu, db)
    assert summary.exit_code == 3
    assert "Cloudflare" in summary.errors[0] and "browser" in summary.errors[0]
    assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0
