"""A Takeout and a live backup of the same account meet in one conversation per chat: the
entries a live turn already holds are matched onto it (prompt and time), not duplicated,
whichever of the two comes first; a Takeout's uploads land on the live turn."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from archiver.backup.engine import BackupOptions
from archiver.backup.options import BackupRun
from archiver.cli import cli
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.providers.gemini.backup import backup_gemini
from archiver.providers.gemini.client import GeminiSettings
from archiver.providers.gemini.emulator import GeminiEmulatorConfig, GeminiWorld
from archiver.store import open_db
from archiver.transport.pace import ClientPace
from tests.providers.gemini import samples
from tests.providers.gemini.samples import Prompt
from tests.support.fakes import fake_config
from tests.support.transport import FAST

COOKIE = "__Secure-1PSID=emulator-psid; __Secure-1PSIDTS=emulator-psidts"
UPLOAD = "scan_ab12cd-1234567890abcdef.png"
UPLOAD_BYTES = b"\x89PNG scanned page"


def backup(base_url: str, db_path: Path) -> Any:
    db = open_db(db_path)
    try:
        return asyncio.run(
            backup_gemini(
                db,
                GeminiSettings(Secret(COOKIE), base_url=base_url),
                BackupRun(ClientPace(None, policy=FAST), BackupOptions()),
            )
        )
    finally:
        db.close()


def same_account_takeout(world: GeminiWorld, tmp_path: Path, *, linked: bool = True) -> Path:
    """What Takeout would say of the emulated account: one entry per live turn (its prompt, its
    drafts as HTML, its time in milliseconds), one upload on the first turn, plus one prompt
    the live chats do not hold."""
    prompts: list[Prompt] = []
    first = True
    for chat in world.chats.values():
        for turn in chat.turns:
            when = datetime.fromtimestamp(turn.sent, UTC).replace(
                microsecond=(int(turn.sent * 1000) % 1000) * 1000
            )
            prompt = Prompt(
                when,
                turn.prompt,
                [f"<p>{c[1][0]}</p>" for c in turn.candidates],
                [chat.id.removeprefix("c_")] if linked else [],
            )
            if first:
                prompt.files = [("scan.png", UPLOAD)]
                first = False
            prompts.append(prompt)
    extra_chat = next(iter(world.chats.values()))
    prompts.append(
        Prompt(
            datetime.fromtimestamp(extra_chat.turns[-1].sent + 1, UTC),
            "A prompt only the Takeout has",
            ["<p>Deleted from the chat since.</p>"],
            [extra_chat.id.removeprefix("c_")] if linked else [],
        )
    )
    if not linked:  # hours after everything: a time group of its own
        newest = max(t.sent for c in world.chats.values() for t in c.turns)
        prompts.append(
            Prompt(datetime.fromtimestamp(newest + 3 * 3600, UTC), "Much later", ["<p>Ok.</p>"])
        )
    members = samples.takeout_members("json", prompts=prompts, activity=[])
    members[f"{samples.FOLDER}/{UPLOAD}"] = UPLOAD_BYTES
    return samples.write_zip(tmp_path / f"takeout-{linked}.zip", members)


def run_import(db_path: Path, takeout: Path) -> Any:
    result = CliRunner().invoke(cli, ["import", str(db_path), str(takeout)])
    assert result.exit_code == 0, result.output
    return result


def visible_prompts(db_path: Path) -> list[tuple[str, str]]:
    db = open_db(db_path)
    try:
        return [
            tuple(r)
            for r in db.execute(
                "SELECT conversation_id, text FROM messages WHERE role = 'user' AND is_hidden = 0 "
                "AND deleted_upstream_at IS NULL ORDER BY conversation_id, create_time"
            )
        ]
    finally:
        db.close()


def live_prompts(world: GeminiWorld) -> list[tuple[str, str]]:
    return sorted((c.id, t.prompt) for c in world.chats.values() for t in c.turns)


def emulator() -> Any:
    return running_emulator(
        fake_config(
            chatgpt_conversations=0,
            bing_chats=0,
            provider_configs={"gemini": GeminiEmulatorConfig(chats=6)},
        )
    )


def world_of(emu: Any) -> GeminiWorld:
    return emu.state.provider_state("gemini", lambda c: GeminiWorld(c))


def test_takeout_after_a_live_backup_does_not_duplicate(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    with emulator() as emu:
        world = world_of(emu)
        assert backup(emu.base_url, db_path).exit_code == 0
        result = run_import(db_path, same_account_takeout(world, tmp_path))
        turns = sum(len(c.turns) for c in world.chats.values())
        assert f"matched {turns}" in result.output
        extra = next(iter(world.chats.values())).id
        assert sorted(visible_prompts(db_path)) == sorted(
            [*live_prompts(world), (extra, "A prompt only the Takeout has")]
        )
        db = open_db(db_path)
        # Matched entries are kept (hidden, no text), each naming the live turn it is.
        matched = db.execute(
            "SELECT m.message_id, t.message_id FROM messages m JOIN messages t "
            "ON t.conversation_id = m.conversation_id AND t.id = m.message_id "
            "WHERE m.content_type = 'takeout_match' AND m.text IS NULL AND m.is_hidden = 1"
        ).fetchall()
        assert len(matched) == turns and all(a == b for a, b in matched)
        # The upload the Takeout brought is on the live turn's user message, bytes stored.
        first_turn = next(iter(world.chats.values())).turns[0]
        assert db.execute(
            "SELECT message_node_id, sha256 FROM attachments WHERE download_status = 'stored' "
            "AND asset_pointer LIKE 'takeout://%'"
        ).fetchall() == [(first_turn.rid, hashlib.sha256(UPLOAD_BYTES).hexdigest())]
        db.close()
        # Again: nothing new. A later live backup keeps what the Takeout brought.
        again = run_import(db_path, same_account_takeout(world, tmp_path))
        assert "new 0, updated 0" in again.output
        world.add_turn(extra, "Live again")
        assert backup(emu.base_url, db_path).updated == 1
        assert (extra, "A prompt only the Takeout has") in visible_prompts(db_path)
        db = open_db(db_path)
        assert db.execute(
            "SELECT count(*) FROM messages WHERE content_type LIKE 'takeout%' "
            "AND deleted_upstream_at IS NOT NULL"
        ).fetchone() == (0,)
        db.close()


def test_live_backup_after_a_takeout_does_not_duplicate(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    with emulator() as emu:
        world = world_of(emu)
        run_import(db_path, same_account_takeout(world, tmp_path))
        assert backup(emu.base_url, db_path).exit_code == 0
        extra = next(iter(world.chats.values())).id
        assert sorted(visible_prompts(db_path)) == sorted(
            [*live_prompts(world), (extra, "A prompt only the Takeout has")]
        )


def test_an_older_takeout_without_chat_links_is_matched_by_prompt_and_time(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    with emulator() as emu:
        world = world_of(emu)
        assert backup(emu.base_url, db_path).exit_code == 0
        run_import(db_path, same_account_takeout(world, tmp_path, linked=False))
        prompts = visible_prompts(db_path)
        # A prompt no live chat holds follows the live prompt just before it (a second
        # earlier); one hours away from any starts a conversation of its own.
        extra = next(iter(world.chats.values())).id
        assert sorted(p for p in prompts if p[0].startswith("c_")) == sorted(
            [*live_prompts(world), (extra, "A prompt only the Takeout has")]
        )
        [(alone, text)] = [p for p in prompts if not p[0].startswith("c_")]
        assert alone.startswith("takeout-") and text == "Much later"
