"""Copilot through the command line: ``backup copilot``, ``batch --provider copilot``,
``doctor --provider copilot``, the ``backup copilot`` and ``batch`` job kinds, and the query
commands over Copilot rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.emulator import RunningEmulator, running_emulator
from archiver.providers.copilot.fake.config import CopilotFakeConfig
from tests.support.fakes import fake_config
from tests.support.jobhelpers import write_job

TOKEN = CopilotFakeConfig().token


@pytest.fixture(scope="module")
def emu():
    with running_emulator(
        fake_config(chatgpt_conversations=0, bing_chats=0, copilot_chats=9, seed=4)
    ) as running:
        yield running


def env(emu: RunningEmulator, token: str = TOKEN) -> dict[str, str]:
    return {"COPILOT_ACCESS_TOKEN": token, "COPILOT_BASE_URL": emu.base_url}


def invoke(*args: str, environ: dict[str, str]):
    return CliRunner().invoke(cli, list(args), env=environ)


def last_run(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, status, exit_code FROM runs").fetchall()[-1]


def test_backup_batch_and_queries(tmp_path: Path, emu: RunningEmulator) -> None:
    db = tmp_path / "a.db"
    result = invoke("backup", "copilot", str(db), "--max-rpm", "100000", environ=env(emu))
    assert result.exit_code == 0, result.output
    assert "copilot: listed 9" in result.output
    assert last_run(db) == ("backup copilot", "ok", 0)
    csv = tmp_path / "p.csv"
    csv.write_text("id,thread,prompt\na,T,Tell me about ferns\nb,T,And mosses?\n")
    batch = invoke(
        "batch", str(db), str(csv), "--provider", "copilot", "--max-rpm", "100000", environ=env(emu)
    )
    assert batch.exit_code == 0, batch.output
    assert "batch copilot: run 1, rows 2, done 2" in batch.output
    stats = invoke("stats", str(db), "--json", environ={})
    assert stats.exit_code == 0, stats.output
    assert "copilot" in stats.output
    search = invoke("search", str(db), "ferns", environ={})
    assert search.exit_code == 0 and "copilot" in search.output
    out = tmp_path / "export"
    export = invoke("export", str(db), "--all", "--out", str(out), environ={})
    assert export.exit_code == 0, export.output
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) == 10  # 9 backed up, 1 from the batch
    ferns = [p.read_text(encoding="utf-8") for p in written if "ferns" in p.read_text("utf-8")]
    assert ferns and "And mosses?" in ferns[0]
    # Citations render as sources, documents as notes.
    everything = "".join(p.read_text(encoding="utf-8") for p in written)
    assert "https://example.org/" in everything


def test_missing_and_refused_tokens(tmp_path: Path, emu: RunningEmulator) -> None:
    db = tmp_path / "a.db"
    missing = invoke("backup", "copilot", str(db), environ={"COPILOT_BASE_URL": emu.base_url})
    assert missing.exit_code == 2
    assert "COPILOT_ACCESS_TOKEN" in missing.output and "Traceback" not in missing.output
    refused = invoke("backup", "copilot", str(db), environ=env(emu, "nope-secret"))
    assert refused.exit_code == 2
    assert "the Copilot token was refused: they last about a day" in refused.output
    assert "nope-secret" not in refused.output


def test_doctor(emu: RunningEmulator) -> None:
    ok = invoke("doctor", "--provider", "copilot", environ=env(emu))
    assert ok.exit_code == 0, ok.output
    assert "conversations" in ok.output and "8 listed on the first page (more pages)" in ok.output
    bad = invoke("doctor", "--provider", "copilot", environ=env(emu, "nope"))
    assert bad.exit_code == 2 and "Copilot token was refused" in bad.output
    none = invoke("doctor", "--provider", "copilot", environ={})
    assert none.exit_code == 2 and "COPILOT_ACCESS_TOKEN" in none.output


def test_job_kinds(tmp_path: Path, emu: RunningEmulator) -> None:
    job = write_job(
        tmp_path,
        kind="backup copilot",
        db="a.db",
        schedule="0 * * * *",
        base_url=emu.base_url,
        max_rpm=100000,
    )
    result = invoke("run", str(job), environ={"COPILOT_ACCESS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert last_run(tmp_path / "a.db") == ("backup copilot", "ok", 0)
    (tmp_path / "p.csv").write_text("id,prompt\na,Hello there\n")
    batch = write_job(
        tmp_path,
        name="batch",
        kind="batch",
        db="a.db",
        schedule="0 * * * *",
        csv="p.csv",
        provider="copilot",
        copilot_base_url=emu.base_url,
        max_rpm=100000,
    )
    result = invoke("run", str(batch), environ={"COPILOT_ACCESS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "a.db") as conn:
        rows = conn.execute("SELECT provider, status FROM batch_items").fetchall()
    assert rows == [("copilot", "done")]
    counts = json.loads(
        sqlite3.connect(tmp_path / "a.db").execute("SELECT counts_json FROM runs").fetchone()[0]
    )
    assert counts["new"] >= 9  # the module's emulator also holds earlier tests' chats
