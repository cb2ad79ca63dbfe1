"""The batch through the emulator as a 2026 account sends: sentinel + proof of work +
f/conversation, the fallbacks, no double sends, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archiver.batch import BatchOptions
from archiver.cli import cli
from archiver.config import Secret
from archiver.cooldown import CooldownSkip
from archiver.emulator import running_emulator
from archiver.errors import EXIT_OK, EXIT_PARTIAL
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from archiver.store import open_db
from archiver.store.runs import active_cooldown, sending_scope
from tests.support.batching import batch_items, run_provider_batch
from tests.support.fake_answers import TOKEN as FAKE_TOKEN
from tests.support.fake_answers import FakeAnswers
from tests.support.fakes import fake_config
from tests.support.transport import FAST

TOKEN = ChatGPTFakeConfig().token
PROMPTS = "id,prompt\n" + "".join(f"r{i},Question number {i}\n" for i in range(1, 7))


def csv(tmp_path: Path, text: str = PROMPTS) -> Path:
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(db: Any, path: Path, base: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {"max_rpm": None, "concurrency": 3, "policy": FAST}
    values.update(overrides)
    settings = ChatGPTSettings(base_url=base, token=Secret(TOKEN))
    return run_provider_batch(db, path, BatchOptions(provider="chatgpt", **values), settings)


def sends(emu: Any) -> list[dict[str, Any]]:
    return [e for e in emu.request_log if e["path"].endswith("conversation")]


@pytest.mark.parametrize("form", ["sha3", "fnv"])
def test_every_row_goes_through_the_sentinel_and_f_conversation(tmp_path: Path, form: str) -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_pow_difficulty="00ffff")
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(
            db,
            csv(tmp_path),
            emu.chatgpt_base_url,
            provider_values={"proof_form": form},
        )
        assert summary.exit_code == EXIT_OK, summary.errors
        assert summary.done == 6 and summary.requests == 12  # sentinel + send per prompt
        stats = emu.state.stats()
        assert stats["prompts"] == 6 and stats["sentinel_issued"] == 6
        assert stats["sentinel_refused"] == 0
        assert {e["path"] for e in sends(emu)} == {"/backend-api/f/conversation"}
        rows = batch_items(db)
        assert all(r["status"] == "done" and r["attempts"] == 2 for r in rows.values())
        # The title came from the stream's title_generation frame, into the archive copy.
        titles = {r[0] for r in db.execute("SELECT title FROM conversations")}
        assert None not in titles and "New chat" not in titles
        # The device id is the account's, kept in account_state, and the same for every send.
        kept = db.execute("SELECT value FROM account_state WHERE key = 'oai-device-id'").fetchone()
        assert kept is not None


def test_prepare_finalize_form_and_the_legacy_path(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(
            chatgpt_conversations=0, chatgpt_sentinel_form="prepare", chatgpt_send_paths="legacy"
        )
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url, concurrency=1)
        assert summary.exit_code == EXIT_OK, summary.errors
        paths = [e["path"] for e in emu.request_log]
        # Learnt once: the plain sentinel and f/conversation are missing (404), then never
        # asked again.
        assert paths.count("/backend-api/sentinel/chat-requirements") == 1
        assert paths.count("/backend-api/f/conversation") == 1
        # One token went with the 404 of f/conversation: the legacy send gets a fresh one.
        assert paths.count("/backend-api/sentinel/chat-requirements/finalize") == 7
        assert paths.count("/backend-api/conversation") == 6
        assert emu.state.stats()["prompts"] == 6


def test_a_server_without_sentinel_is_sent_to_without_tokens(tmp_path: Path, httpserver) -> None:
    fake = FakeAnswers(sentinel="none")
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    settings = ChatGPTSettings(base_url=base, token=Secret(FAKE_TOKEN))
    options = BatchOptions(provider="chatgpt", max_rpm=None, concurrency=1, policy=FAST)
    summary = run_provider_batch(db, csv(tmp_path), options, settings)
    assert summary.exit_code == EXIT_OK, summary.errors
    # Learnt once (404 on both sentinel forms), then only sends: 2 + 6 requests.
    assert summary.done == 6 and summary.requests == 8
    assert fake.sentinel_requests == 0


def test_a_retry_after_beyond_max_wait_stops_the_batch_and_a_later_run_skips(
    tmp_path: Path,
    httpserver,
) -> None:
    fake = FakeAnswers()
    base = fake.install(httpserver)
    fake.faults = [None, "throttled-long"]  # the first row answered, then a day-long 429
    db = open_db(tmp_path / "a.db")
    settings = ChatGPTSettings(base_url=base, token=Secret(FAKE_TOKEN))
    options = BatchOptions(
        provider="chatgpt", max_rpm=None, concurrency=1, policy=FAST, max_wait=30
    )
    asked = datetime.now(tz=UTC)
    summary = run_provider_batch(db, csv(tmp_path), options, settings)
    answered = datetime.now(tz=UTC)
    # Stopped at the 429, not asleep for a day holding the lock: no try after it.
    assert len(fake.requests) == 2
    assert summary.exit_code == EXIT_PARTIAL and summary.done == 1
    assert "come back after" in " ".join(summary.errors)
    until = active_cooldown(db, "chatgpt", "")
    # The cool-down is the 429's Retry-After (99999 s) from when it came, however long the
    # run took: bounded by the clock before and after the run, not by a stopwatch.
    rest = timedelta(seconds=99999)
    assert until is not None and asked + rest - timedelta(seconds=1) <= until <= answered + rest
    sent = len(fake.requests)
    again = run_provider_batch(db, csv(tmp_path), options, settings)
    assert isinstance(again, CooldownSkip) and again.exit_code == EXIT_OK
    assert len(fake.requests) == sent  # the account was left alone
    assert sorted(r["status"] for r in batch_items(db).values()) == ["done"] + ["pending"] * 5


def test_a_cut_stream_adopts_the_stored_answer_never_sending_twice(tmp_path: Path) -> None:
    with running_emulator(fake_config(chatgpt_conversations=0, drop_sends=3)) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url)
        assert summary.exit_code == EXIT_OK, summary.errors
        stats = emu.state.stats()
        assert stats["prompts"] == 6  # every prompt answered once upstream: none sent twice
        assert len(sends(emu)) == 6
        looked_up = [
            e for e in emu.request_log if e["method"] == "GET" and "/conversation/" in e["path"]
        ]
        assert len(looked_up) == 3
        rows = batch_items(db)
        assert all(r["status"] == "done" for r in rows.values())
        answers = [r["answer"] for r in rows.values()]
        assert len(set(answers)) == 6 and all(answers)


def test_unusual_activity_once_is_retried_with_fresh_tokens(tmp_path: Path) -> None:
    with running_emulator(fake_config(chatgpt_conversations=0, chatgpt_unusual_activity=1)) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path, "prompt\nonly one\n"), emu.chatgpt_base_url)
        assert summary.exit_code == EXIT_OK, summary.errors
        assert emu.state.stats()["sentinel_issued"] == 2  # a fresh token for the second try
        assert summary.requests == 4


def test_unusual_activity_twice_stops_the_run_rows_pending(tmp_path: Path) -> None:
    with running_emulator(fake_config(chatgpt_conversations=0, chatgpt_turnstile="insist")) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url, concurrency=1)
        assert summary.exit_code == EXIT_PARTIAL
        assert summary.done == 0 and summary.not_sent == 6
        message = " ".join(summary.errors)
        assert "Unusual activity" in message and "refused again with fresh" in message
        assert "Turnstile" in message
        assert {r["status"] for r in batch_items(db).values()} == {"pending"}
        assert emu.state.stats()["sentinel_refused"] == 2  # one retry, then stop
        assert emu.state.stats()["prompts"] == 0


def test_a_long_model_cap_stops_at_once_and_a_later_run_skips(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(
            chatgpt_conversations=0, chatgpt_model_cap=2, chatgpt_model_cap_clears_in=3 * 3600
        )
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url, concurrency=1)
        # Stopped at the first cap, not asleep for three hours then asking again.
        assert emu.state.stats()["model_capped"] == 1
        assert summary.exit_code == EXIT_PARTIAL
        assert summary.done == 2 and summary.not_sent == 4
        message = " ".join(summary.errors)
        assert "model_cap_exceeded" in message and "come back after" in message
        assert "clears in 2 h 59 min" in message or "clears in 3 h 0 min" in message
        rows = batch_items(db)
        assert sorted(r["status"] for r in rows.values()) == ["done"] * 2 + ["pending"] * 4
        # Remembered for sending only: a backup of the same account is not held back.
        assert active_cooldown(db, sending_scope("chatgpt"), "") is not None
        assert active_cooldown(db, "chatgpt", "") is None
        before = len(emu.request_log)
        again = run(db, csv(tmp_path), emu.chatgpt_base_url, concurrency=1)
        assert isinstance(again, CooldownSkip) and again.exit_code == EXIT_OK
        assert "model_cap_exceeded" in again.line() and "skipped" in again.line()
        assert len(emu.request_log) == before  # nothing sent
        # Never two answers for a row: the done rows are untouched.
        assert {k: r["answer"] for k, r in batch_items(db).items() if r["status"] == "done"} == {
            k: r["answer"] for k, r in rows.items() if r["status"] == "done"
        }


def test_a_short_model_cap_is_waited_out(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_model_cap=2, chatgpt_model_cap_clears_in=1)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url)
        assert summary.exit_code == EXIT_OK, summary.errors
        assert summary.done == 6
        assert emu.state.stats()["model_capped"] >= 1
        assert emu.state.stats()["prompts"] == 6


def test_only_one_message_at_a_time_goes_serial(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_one_at_a_time=True, stream_delay_ms=5)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url, concurrency=3)
        assert summary.exit_code == EXIT_OK, summary.errors
        assert summary.done == 6 and emu.state.stats()["prompts"] == 6
        refused = emu.state.stats()["one_at_a_time"]
        assert 1 <= refused <= 3  # at most once per worker in flight, then one at a time


def test_cli_exit_codes_for_a_cap(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_model_cap=1, chatgpt_model_cap_clears_in=7200)
    ) as emu:
        env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": emu.chatgpt_base_url}
        db = str(tmp_path / "a.db")
        args = ["batch", db, str(csv(tmp_path)), "--max-rpm", "6000", "--concurrency", "1"]
        first = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
        assert first.exit_code == 3, first.output
        assert "come back after" in first.output and "Traceback" not in first.output
        second = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
        assert second.exit_code == 0, second.output
        assert "skipped" in second.output and "model_cap_exceeded" in second.output


def test_an_unsolvable_proof_stops_at_once_naming_the_difficulty(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_pow_difficulty="000000")
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url, concurrency=1)
        # Stopped at the first unsolvable challenge: no row asked for another.
        assert emu.state.stats()["sentinel_issued"] == 1
        assert summary.exit_code == EXIT_PARTIAL and summary.not_sent == 6
        assert "difficulty 000000" in " ".join(summary.errors)
        assert emu.state.stats()["prompts"] == 0


def test_a_server_that_takes_only_the_other_proof_form_is_learnt(tmp_path: Path) -> None:
    with running_emulator(fake_config(chatgpt_conversations=0, chatgpt_pow_forms="fnv")) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, csv(tmp_path), emu.chatgpt_base_url, concurrency=1)
        assert summary.exit_code == EXIT_OK, summary.errors
        # Refused once (SHA3), then FNV-1a passed and was kept for every later prompt.
        assert chatgpt_world(emu.state).refusal_reasons == ["bad proof of work"]
        assert emu.state.stats()["prompts"] == 6 and emu.state.stats()["sentinel_issued"] == 7
