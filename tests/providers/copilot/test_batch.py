"""``run_batch --provider copilot`` through the emulator's chat websocket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archiver.batch import BatchOptions
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.errors import EXIT_OK, EXIT_PARTIAL
from archiver.providers.copilot.client import CopilotSettings
from archiver.providers.copilot.fake.config import CopilotFakeConfig
from archiver.providers.copilot.fake.world import world_of as copilot_world
from archiver.store import open_db
from archiver.transport.connect import use_transport
from tests.support.batching import (
    THREADS_CSV,
    assert_threads_answered,
    batch_items,
    run_provider_batch,
)
from tests.support.fakes import fake_config
from tests.support.transport import FAST, Fault, ScriptedFaults

CONVERSATIONS = r"^/c/api/conversations"
CHAT = r"^/c/api/chat"
CSV = THREADS_CSV
TOKEN = CopilotFakeConfig().token


def run(db: Any, csv: Path, base_url: str, **overrides: Any):
    values: dict[str, Any] = {
        "provider": "copilot",
        "max_rpm": None,
        "concurrency": 2,
        "policy": FAST,
    }
    values.update(overrides)
    settings = CopilotSettings(Secret(TOKEN), base_url=base_url)
    return run_provider_batch(db, csv, BatchOptions(**values), settings)


def write_csv(tmp_path: Path, text: str = CSV) -> Path:
    csv = tmp_path / "p.csv"
    csv.write_text(text, encoding="utf-8")
    return csv


@pytest.mark.parametrize("challenge", ["none", "empty", "hashcash"])
@pytest.mark.parametrize("resend", [True, False])
def test_threads_answers_archived_and_challenges_met(
    tmp_path: Path, challenge: str, resend: bool
) -> None:
    db = open_db(tmp_path / "a.db")
    with running_emulator(
        fake_config(
            bing_chats=0,
            chatgpt_conversations=0,
            copilot_challenge=challenge,
            copilot_challenge_resend=resend,
            copilot_hashcash_bits=10,
        )
    ) as emu:
        summary = run(db, write_csv(tmp_path), emu.base_url)
        stats = emu.state.stats()
        upstream = {
            cid: [m["id"] for m in c.messages or []]
            for cid, c in copilot_world(emu.state).chats.items()
        }
    assert summary.exit_code == EXIT_OK, summary.errors
    rows = batch_items(db)
    assert_threads_answered(rows)
    assert stats["prompts"] == 4  # each row answered once, re-sends included
    assert stats["copilot_pongs"] == 4  # every ping answered
    assert stats["copilot_challenges_met"] == (0 if challenge == "none" else 4)
    # Archived as it arrived: the thread as one conversation, in order, with the ids upstream has.
    cid = rows["t1"]["conversation_id"]
    stored = db.execute(
        "SELECT id, role, text FROM messages WHERE conversation_id = ? ORDER BY depth", [cid]
    ).fetchall()
    assert [r[1] for r in stored] == ["user", "assistant"] * 3
    assert [r[2] for r in stored if r[1] == "user"] == ["First turn", "Second turn", "Third turn"]
    answers = [r[2] for r in stored if r[1] == "assistant"]
    assert answers == [rows[k]["answer"] for k in ("t1", "t2", "t3")]
    assert [r[0] for r in stored if r[1] == "assistant"] == upstream[cid][1::2]
    title = db.execute("SELECT title, source, provider FROM conversations WHERE id = ?", [cid])
    assert title.fetchone() == ("First turn", "batch", "copilot")


def test_resume_never_sends_an_answered_row_again(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path)
    with running_emulator(fake_config(bing_chats=0, chatgpt_conversations=0)) as emu:
        first = run(db, csv, emu.base_url)
        again = run(db, csv, emu.base_url)
        more = write_csv(tmp_path, CSV + "t4,T,Fourth turn\n")
        third = run(db, more, emu.base_url)
        prompts = emu.state.stats()["prompts"]
    assert first.exit_code == again.exit_code == third.exit_code == EXIT_OK
    assert (again.done, again.already_done, again.requests) == (0, 4, 0)
    assert (third.done, third.already_done) == (1, 4)
    assert prompts == 5
    rows = batch_items(db)
    assert rows["t4"]["conversation_id"] == rows["t1"]["conversation_id"]  # resumed thread
    users = db.execute(
        "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' ORDER BY depth",
        [rows["t1"]["conversation_id"]],
    ).fetchall()
    assert [u[0] for u in users] == ["First turn", "Second turn", "Third turn", "Fourth turn"]


def test_cloudflare_challenge_stops_the_run(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    with running_emulator(
        fake_config(bing_chats=0, chatgpt_conversations=0, copilot_challenge="cloudflare")
    ) as emu:
        summary = run(db, write_csv(tmp_path), emu.base_url, concurrency=1)
        prompts = emu.state.stats()["prompts"]
    assert summary.exit_code == EXIT_PARTIAL
    assert "Cloudflare" in summary.errors[0] and "browser" in summary.errors[0]
    assert prompts == 0
    assert {r["status"] for r in batch_items(db).values()} == {"pending"}


def test_error_frame_stops_the_run(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    with running_emulator(
        fake_config(bing_chats=0, chatgpt_conversations=0, copilot_error="rateLimited")
    ) as emu:
        summary = run(db, write_csv(tmp_path), emu.base_url, concurrency=1)
    assert summary.exit_code == EXIT_PARTIAL
    assert "rateLimited" in summary.errors[0]
    assert {r["status"] for r in batch_items(db).values()} == {"pending"}
    assert summary.not_sent == 4


def test_drops_and_502s_are_retried_and_cleanup_deletes(tmp_path: Path) -> None:
    """Scripted faults: which request meets which fault does not depend on how the two
    workers interleave, so neither does the outcome."""
    script = [
        Fault("POST", CONVERSATIONS, "cut"),  # created upstream, the answer lost on the way
        Fault("POST", CONVERSATIONS, "status:502", nth=2),  # never reached the server
        Fault("SOCKET", CHAT, "cut:0"),  # dropped before a word: the prompt never went out
        Fault("DELETE", CONVERSATIONS + "/", "status:502"),
    ]
    db = open_db(tmp_path / "a.db")
    with (
        running_emulator(fake_config(bing_chats=0, chatgpt_conversations=0)) as emu,
        use_transport(wrap=lambda inner: ScriptedFaults(inner, script)),
    ):
        summary = run(db, write_csv(tmp_path), emu.base_url, cleanup=True)
        left = [c for c in copilot_world(emu.state).chats.values() if not c.deleted]
    assert summary.exit_code == EXIT_OK, summary.errors
    assert all(fault.hit for fault in script)
    assert summary.cleaned == 2
    # The create whose answer was cut was retried: the first one stays upstream, empty (never
    # a prompt sent into it).
    assert len(left) == 1 and not left[0].messages and not left[0].listed
    marked = db.execute("SELECT count(*) FROM conversations WHERE deleted_upstream_at IS NOT NULL")
    assert marked.fetchone()[0] == 2


def test_a_socket_cut_mid_answer_is_never_sent_twice(tmp_path: Path) -> None:
    """The emulator, like Copilot, keeps an exchange once the prompt is received; a socket cut
    mid-answer is retried by adopting that answer from the history, not by asking again."""
    db = open_db(tmp_path / "a.db")
    # Scripted: the first answer is cut half-way, after the exchange was stored upstream.
    with running_emulator(fake_config(bing_chats=0, chatgpt_conversations=0, drop_sends=1)) as emu:
        summary = run(db, write_csv(tmp_path), emu.base_url)
        sockets_cut = [
            e for e in emu.request_log if e.get("dropped") and "chat" in e["route"].lower()
        ]
        asked = [
            m
            for chat in copilot_world(emu.state).chats.values()
            for m in chat.messages or []
            if m["author"]["type"] == "human"
        ]
    assert summary.exit_code == EXIT_OK, summary.errors
    assert len(sockets_cut) == 1
    texts = [part["text"] for m in asked for part in m["content"] if part["type"] == "text"]
    assert len(texts) == len(set(texts)) == summary.done  # each prompt reached Copilot once
    answers = db.execute("SELECT count(*) FROM batch_items WHERE status = 'done'").fetchone()[0]
    assert answers == summary.done
