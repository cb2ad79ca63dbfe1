"""The import, batch and request-export job kinds, end to end through ``archiver run``."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.emulator import running_emulator
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.chatgpt.fake.generate import write_export_json
from tests.support.fakes import fake_config
from tests.support.jobhelpers import write_job

TOKEN = ChatGPTFakeConfig().token


@pytest.fixture(scope="module")
def emu():
    with running_emulator(fake_config(chatgpt_conversations=6, seed=2)) as running:
        yield running


def run_jobs(*paths, env=None):
    return CliRunner().invoke(cli, ["run", *map(str, paths)], env=env or {})


def last_run(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, status, exit_code, counts_json FROM runs").fetchall()[-1]


def test_import_job(tmp_path):
    write_export_json(tmp_path / "conversations.json", 5, seed=3)
    job = write_job(
        tmp_path, kind="import", db="a.db", schedule="0 4 1 * *", path="conversations.json"
    )
    result = run_jobs(job)
    assert result.exit_code == 0, result.output
    kind, status, code, counts = last_run(tmp_path / "a.db")
    assert (kind, status, code) == ("import", "ok", 0)
    assert json.loads(counts)["new"] == 5


def test_import_job_without_a_path_is_a_config_error(tmp_path):
    job = write_job(tmp_path, kind="import", db="a.db", schedule="0 4 1 * *")
    result = run_jobs(job)
    assert result.exit_code == 2
    assert "missing required key 'path'" in result.output


def test_batch_job(tmp_path, emu):
    (tmp_path / "prompts.csv").write_text("id,prompt\na,Hello there\nb,And again\n")
    job = write_job(
        tmp_path,
        kind="batch",
        db="a.db",
        schedule="0 * * * *",
        csv="prompts.csv",
        base_url=emu.chatgpt_base_url,
        max_rpm=6000,
    )
    result = run_jobs(job, env={"CHATGPT_ACCESS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "a.db") as conn:
        statuses = conn.execute("SELECT item_key, status FROM batch_items ORDER BY item_key")
        assert statuses.fetchall() == [("a", "done"), ("b", "done")]
    assert last_run(tmp_path / "a.db")[:3] == ("batch", "ok", 0)


def test_request_export_job(tmp_path, emu):
    job = write_job(
        tmp_path,
        kind="request-export",
        db="a.db",
        schedule="0 3 1 * *",
        base_url=emu.chatgpt_base_url,
    )
    result = run_jobs(job, env={"CHATGPT_ACCESS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT status FROM export_requests").fetchone()[0] == "queued"
    assert last_run(tmp_path / "a.db")[:3] == ("request-export", "ok", 0)
