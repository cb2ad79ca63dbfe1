"""What the rest of archiver does with Gemini: rendering (drafts as alternatives, thoughts
folded, archived HTML escaped), ``archiver providers``, the emulator's knobs, the backup
command's exit codes, reflatten."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from archiver.cli import cli
from archiver.emulator import EmulatorConfig, running_emulator
from archiver.providers import registry
from archiver.providers.gemini.emulator import GeminiEmulatorConfig
from archiver.query.export import load_conversation
from archiver.query.render import render_html, render_markdown
from archiver.store import open_db
from archiver.store.rebuild import reflatten
from tests.providers.gemini import samples
from tests.providers.gemini.samples import CHAT_A, CHAT_B, PROMPTS, Prompt, utc
from tests.support.fakes import fake_config

COOKIE = "__Secure-1PSID=emulator-psid; __Secure-1PSIDTS=emulator-psidts"


def imported(tmp_path: Path, prompts: list[Prompt] = PROMPTS) -> Path:
    db = tmp_path / "a.db"
    members = samples.takeout_members("json", prompts=prompts)
    result = CliRunner().invoke(
        cli, ["import", str(db), str(samples.write_zip(tmp_path / "t.zip", members))]
    )
    assert result.exit_code == 0, result.output
    return db


def test_takeout_drafts_render_as_alternatives(tmp_path: Path) -> None:
    db = open_db(imported(tmp_path))
    doc = load_conversation(db, "c_" + CHAT_A, registry.block_reader)
    current = render_markdown(doc)
    assert "Shark Bay." in current and "Lake Thetis" not in current
    every = render_markdown(doc, "all")
    assert "Alternative 2 of 2" in every and "Lake Thetis" in every
    # An upload the Takeout brought links to the stored copy.
    assert "photo.png" in every and ".files/" in every


def test_archived_html_is_escaped_when_rendered(tmp_path: Path) -> None:
    hostile = Prompt(
        utc(2026, 8, 12, 9, 0, 0),
        "<script>alert(1)</script>",
        ['<p>Look <img src=x onerror="alert(2)"><a href="javascript:alert(3)">here</a></p>'],
        [CHAT_B],
    )
    db = open_db(imported(tmp_path, [*PROMPTS, hostile]))
    page = render_html(load_conversation(db, "c_" + CHAT_B, registry.block_reader))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "onerror" not in page and "javascript:" not in page


def test_live_candidates_render_thoughts_folded_and_the_gem(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(
            chatgpt_conversations=0,
            bing_chats=0,
            provider_configs={"gemini": GeminiEmulatorConfig(chats=4)},
        )
    ) as emu:
        db_path = tmp_path / "live.db"
        result = CliRunner().invoke(
            cli,
            ["backup", "gemini", str(db_path), "--max-rpm", "6000"],
            env={"GEMINI_COOKIE": COOKIE, "GEMINI_BASE_URL": emu.base_url},
        )
        assert result.exit_code == 0, result.output
    db = open_db(db_path)
    # Chat 0 answers with thoughts; chat 3 uses the Gem.
    cids = [r[0] for r in db.execute("SELECT id FROM conversations ORDER BY create_time")]
    thinking = render_html(load_conversation(db, cids[0], registry.block_reader))
    assert "<details" in thinking and "Thinking about:" in thinking
    gem = render_markdown(load_conversation(db, cids[3], registry.block_reader))
    assert "Gem: Emulated tutor" in gem


def test_backup_command_exit_codes(tmp_path: Path) -> None:
    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        provider_configs={"gemini": GeminiEmulatorConfig(chats=2)},
    )
    with running_emulator(config) as emu:
        env = {"GEMINI_BASE_URL": emu.base_url}
        db = str(tmp_path / "a.db")
        refused = CliRunner().invoke(
            cli, ["backup", "gemini", db], env={**env, "GEMINI_COOKIE": "__Secure-1PSID=nope"}
        )
        assert refused.exit_code == 2, refused.output
        assert "GEMINI_COOKIE" in refused.output and "fresh" in refused.output
        assert "nope" not in refused.output
        missing = CliRunner().invoke(
            cli, ["backup", "gemini", db], env={**env, "GEMINI_COOKIE": ""}
        )
        assert missing.exit_code == 2 and "--cookie-file" in missing.output
        cookie_file = tmp_path / "cookie"
        cookie_file.write_text(COOKIE)
        cookie_file.chmod(0o600)
        ok = CliRunner().invoke(
            cli,
            ["backup", "gemini", db, "--cookie-file", str(cookie_file)],
            env={**env, "GEMINI_COOKIE": ""},
        )
        assert ok.exit_code == 0, ok.output
        assert "gemini: listed 2, fetched 2, new 2" in ok.output
        with sqlite3.connect(db) as conn:
            kinds = conn.execute("SELECT kind, status FROM runs ORDER BY id").fetchall()
        assert kinds[-1] == ("backup gemini", "ok")


def test_providers_lists_gemini() -> None:
    result = CliRunner().invoke(cli, ["providers"])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("gemini")]
    assert line.split() == ["gemini", "yes", "yes", "-", "-", "-", "yes", "yes"]
    provider = registry.get("gemini")
    assert provider.capabilities() == {
        "backup": True,
        "import": True,
        "send": False,
        "gateway": False,
        "doctor": False,
        "emulator": True,
        "reflatten": True,
    }
    assert (
        provider.conversation_url("c_0a1b2c3d4e5f6a7b")
        == "https://gemini.google.com/app/0a1b2c3d4e5f6a7b"
    )
    assert provider.conversation_url("takeout-0a1b2c3d4e5f6a7b") is None


def test_emulator_knobs_are_set_by_name() -> None:
    from archiver.emulator.app import with_provider_defaults

    config = with_provider_defaults(EmulatorConfig())
    config.set_provider_value("gemini", "chats", "7")
    config.set_provider_value("gemini", "redirect", "consent")
    assert config.provider("gemini") == GeminiEmulatorConfig(chats=7, redirect="consent")


def test_reflatten_rebuilds_the_same_rows(tmp_path: Path) -> None:
    db = open_db(imported(tmp_path))
    before = db.execute(
        "SELECT conversation_id, id, parent_id, on_current_branch, text FROM messages ORDER BY pk"
    ).fetchall()
    provider: Any = registry.get("gemini")
    summary = reflatten(db, {"gemini": provider.reflatten}, everything=True)
    assert summary.conversations == 6
    assert summary.exit_code == 0, summary.errors
    after = db.execute(
        "SELECT conversation_id, id, parent_id, on_current_branch, text FROM messages ORDER BY pk"
    ).fetchall()
    assert after == before


def test_backup_gemini_job_kind(tmp_path: Path) -> None:
    from tests.support.jobhelpers import write_job

    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        provider_configs={"gemini": GeminiEmulatorConfig(chats=3)},
    )
    with running_emulator(config) as emu:
        job = write_job(
            tmp_path,
            kind="backup gemini",
            db="a.db",
            schedule="0 4 * * *",
            base_url=emu.base_url,
            cookie_env="MY_GEMINI_COOKIE",
            max_rpm=6000,
        )
        result = CliRunner().invoke(cli, ["run", str(job)], env={"MY_GEMINI_COOKIE": COOKIE})
        assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT kind, status FROM runs").fetchall() == [("backup gemini", "ok")]
        assert conn.execute("SELECT count(*) FROM conversations").fetchone() == (3,)
