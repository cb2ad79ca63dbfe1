"""The emulator's claude.ai (``archiver emulator``, ``make demo``) end to end: a backup of its
generated account (branches, projects, files, artifacts), a no-change run, a touched and a
deleted conversation; a batch with a cut stream and a usage limit; its refusals."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.backup.options import BackupRun
from archiver.batch import BatchOptions
from archiver.config import Secret
from archiver.emulator import RunningEmulator, running_emulator
from archiver.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL, ThrottledUntil
from archiver.providers.claude.backup import backup_claude
from archiver.providers.claude.client import ClaudeSettings, cookie_header
from archiver.providers.claude.emulator import ClaudeEmulatorConfig
from archiver.store import open_db
from archiver.transport.pace import ClientPace
from tests.support.batching import run_provider_batch
from tests.support.fakes import fake_config
from tests.support.transport import FAST

SESSION = ClaudeEmulatorConfig().session_key


def emulator(**claude: Any) -> Any:
    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        provider_configs={"claude": ClaudeEmulatorConfig(**claude)},
    )
    return running_emulator(config)


def settings(emu: RunningEmulator, session: str = SESSION) -> ClaudeSettings:
    return ClaudeSettings(Secret(cookie_header(session)), base_url=emu.base_url)


def backup(emu: RunningEmulator, db: Any, **options: Any) -> BackupSummary:
    return asyncio.run(
        backup_claude(
            db, settings(emu), BackupRun(ClientPace(None, policy=FAST), BackupOptions(**options))
        )
    )


def post(url: str) -> None:
    async def go() -> None:
        async with aiohttp.ClientSession() as session, session.post(url) as response:
            assert response.status == 200

    asyncio.run(go())


def test_backup_of_the_generated_account(tmp_path: Path) -> None:
    with emulator(chats=16, page_cap=5) as emu:
        db = open_db(tmp_path / "a.db")
        first = backup(emu, db)
        assert first.exit_code == 0, first.errors
        assert (first.listed, first.new) == (16, 16)
        world = emu.state.provider_state("claude", lambda c: None)
        for chat in world.chats.values():
            stored = db.execute(
                "SELECT id, on_current_branch FROM messages WHERE conversation_id = ?", [chat.uuid]
            ).fetchall()
            assert {r[0] for r in stored} == {m["uuid"] for m in chat.messages}
            branch, node = set(), chat.current_leaf
            by_id = {m["uuid"]: m for m in chat.messages}
            while node in by_id:
                branch.add(node)
                node = by_id[node]["parent_message_uuid"]
            assert {r[0] for r in stored if r[1]} == branch
        assert first.extra["projects"] == 2 and first.extra["artifact_versions"] > 0
        assert first.extra["files_stored"] > 0 and first.extra["files_gone"] == 1
        before = len(emu.request_log)
        second = backup(emu, db)
        assert (second.fetched, second.unchanged) == (0, 16)
        routes = {e["route"] for e in emu.request_log[before:]}
        assert routes == {
            "/api/organizations",
            "/api/organizations/{org}/chat_conversations_v2",
            "/api/organizations/{org}/projects",
        }
        touched, gone = sorted(world.chats)[:2]
        post(f"{emu.base_url}/_emulator/claude/touch/{touched}")
        post(f"{emu.base_url}/_emulator/claude/delete/{gone}")
        third = backup(emu, db, full=True)
        assert (third.fetched, third.updated, third.marked_deleted) == (1, 1, 1), third.errors
        texts = db.execute(
            "SELECT text FROM current_branch WHERE conversation_id = ? ORDER BY depth", [touched]
        ).fetchall()
        assert [t[0] for t in texts[-2:]] == ["Touched again", "Touched."]


def test_refusals(tmp_path: Path) -> None:
    with emulator(chats=2) as emu:
        summary = asyncio.run(
            backup_claude(
                open_db(tmp_path / "a.db"),
                settings(emu, "not-the-key"),
                BackupRun(ClientPace(None, policy=FAST)),
            )
        )
    assert summary.exit_code == EXIT_CONFIG
    with emulator(chats=2, cloudflare=True) as emu:
        assert backup(emu, open_db(tmp_path / "b.db")).exit_code == EXIT_PARTIAL


def test_batch_with_a_cut_stream_and_a_usage_limit(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("id,thread,prompt\na,T,First\nb,T,Second\nc,T,Third\nd,,Fourth\n")
    db = open_db(tmp_path / "a.db")
    options = BatchOptions(provider="claude", max_rpm=None, concurrency=1, policy=FAST)
    with emulator(drop_sends=1, usage_limit_after=3, warn_after=2) as emu:
        summary = run_provider_batch(db, csv, options, settings(emu))
        stats = emu.state.stats()
    assert summary.exit_code == EXIT_PARTIAL and isinstance(summary.aborted, ThrottledUntil)
    assert stats["prompts"] == 3  # the cut answer was adopted, never asked twice
    done = db.execute(
        "SELECT prompt, answer, conversation_id FROM batch_items WHERE status = 'done' "
        "ORDER BY row_number"
    ).fetchall()
    assert [d[0] for d in done] == ["First", "Second", "Third"]
    assert all(d[1].startswith("Here is what I can say about") for d in done)
    assert len({d[2] for d in done}) == 1
    stored = db.execute(
        "SELECT raw_json FROM messages WHERE conversation_id = ? AND role = 'assistant'",
        [done[0][2]],
    ).fetchall()
    assert all(json.loads(r[0])["content"][0]["type"] == "thinking" for r in stored)
    with emulator() as emu:
        empty = open_db(tmp_path / "c.db")
        assert run_provider_batch(empty, csv, options, settings(emu)).exit_code == EXIT_OK
