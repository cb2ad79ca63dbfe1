"""``archiver batch --provider openai --batch-api`` against the independent fake API
(``fake_api.py``): its batches move one status per poll; waits go through a recording sleep,
which also stands for a kill (it raises ``Killed``, which nothing catches)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from archiver.batch import BatchOptions
from archiver.batch.remote_run import FIRST_POLL
from archiver.batch.runner import run_batch
from archiver.cli import cli
from archiver.config import Secret
from archiver.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL
from archiver.providers import registry
from archiver.providers.openai.batches import OpenAIBatches
from archiver.providers.openai.client import OpenAISettings
from archiver.store import open_db
from tests.providers.openai.fake_api import KEY, FakeApi, Scripted
from tests.providers.openai.test_batch_plain import key_nowhere, write
from tests.support.batching import batch_items
from tests.support.transport import FAST


class Killed(BaseException):
    """The process dies here (nothing in archiver catches a BaseException of its own)."""


class Waits:
    """The engine's sleep: records each wait; ``kill_at`` makes the n-th wait the kill."""

    def __init__(self, kill_at: int | None = None):
        self.seen: list[float] = []
        self.kill_at = kill_at

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        if self.kill_at is not None and len(self.seen) >= self.kill_at:
            raise Killed
        await asyncio.sleep(0)


def run(
    db: Any,
    csv_path: Path,
    base_url: str,
    sleep: Waits | None = None,
    progress: Any = None,
    **values: Any,
) -> Any:
    settings = OpenAISettings(Secret(KEY), base_url=base_url)
    base: dict[str, Any] = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "max_rpm": None,
        "policy": FAST,
        "batch_api": True,
        "poll_interval": 5.0,
    }
    base.update(values)
    sending = registry.get("openai").sending
    assert sending is not None
    coroutine = run_batch(
        db,
        csv_path,
        BatchOptions(**base),
        settings,
        progress,
        sending=sending,
        sleep=sleep or Waits(),
    )
    return asyncio.run(coroutine)


def thirty_rows(tmp_path: Path, fake: FakeApi) -> Path:
    lines = ["id,prompt"]
    for i in range(30):
        prompt = "y" * 30_000 if i == 11 else f"Batch question {i}"
        fake.answers[prompt] = Scripted(f"Batch answer {i}", 50 + i, 5 + i)
        lines.append(f"r{i:02d},{prompt}")
    fake.output_errors.add("r23")  # a compatible server writes this failure in the output file
    return write(tmp_path, "\n".join(lines) + "\n")


def test_thirty_rows_killed_while_in_progress_then_rerun(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The issue's check: one upload and one batch over the kill and the re-run, every row
    done with its exact answer or failed with its error, the key nowhere."""
    fake = FakeApi()
    base = fake.install(httpserver)
    prompts = thirty_rows(tmp_path, fake)
    db_path = tmp_path / "a.db"
    db = open_db(db_path)
    killed = Waits(kill_at=2)  # after the first poll saw it in progress
    with pytest.raises(Killed):
        run(db, prompts, base, sleep=killed)
    batch = db.execute("SELECT input_file_id, batch_id, status FROM remote_batches").fetchall()
    assert batch == [("file-1", "batch_1", "in_progress")]  # both ids kept the moment they came
    assert {r["status"] for r in batch_items(db).values()} == {"submitted"}
    assert killed.seen == [FIRST_POLL, 5.0]  # the first look soon, then every --poll-interval

    again = Waits()
    summary = run(db, prompts, base, sleep=again)
    assert summary.exit_code == EXIT_PARTIAL  # the two rows that failed
    assert len(fake.requests("POST", "/v1/files")) == 1
    assert len(fake.requests("POST", "/v1/batches")) == 1
    rows = batch_items(db)
    for i in range(30):
        row = rows[f"r{i:02d}"]
        if i == 11:
            assert row["status"] == "failed"
            assert (
                "400 context_length_exceeded: This model's maximum context length" in row["error"]
            )
        elif i == 23:
            assert row["status"] == "failed" and "Invalid 'messages': empty." in row["error"]
        else:
            assert row["status"] == "done" and row["answer"] == f"Batch answer {i}"
            assert (row["prompt_tokens"], row["completion_tokens"]) == (50 + i, 5 + i)
    assert Counter(fake.answered()).most_common(1)[0][1] == 1  # each ran once
    assert summary.done == 28 and summary.failed == 2 and summary.submitted == 0
    # Each answered row is archived as a conversation, as in the plain mode.
    archived = db.execute("SELECT count(*) FROM conversations WHERE provider = 'openai'")
    assert archived.fetchone()[0] == 28
    status = db.execute("SELECT status, collected_at IS NOT NULL FROM remote_batches").fetchall()
    assert status == [("completed", 1)]
    key_nowhere(db_path, summary.line(), *summary.errors)


def test_the_input_is_one_jsonl_line_per_row_with_its_id(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi()
    base = fake.install(httpserver)
    prompts = write(tmp_path, "id,system,prompt\na,Be brief,one\nb,,two\n")
    summary = run(open_db(tmp_path / "a.db"), prompts, base, provider_values={"temperature": 0})
    assert summary.exit_code == EXIT_OK, summary.errors
    lines = [json.loads(line) for line in fake.files["file-1"].splitlines()]
    assert lines == [
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be brief"},
                    {"role": "user", "content": "one"},
                ],
                "temperature": 0.0,
            },
        },
        {
            "custom_id": "b",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "two"}],
                "temperature": 0.0,
            },
        },
    ]
    created = fake.batches["batch_1"]
    assert created["endpoint"] == "/v1/chat/completions" and created["completion_window"] == "24h"


def test_detach_then_collect_from_cron(tmp_path: Path, httpserver: HTTPServer) -> None:
    fake = FakeApi()
    base = fake.install(httpserver)
    prompts = write(tmp_path, "id,prompt\na,one\nb,two\nc,three\n")
    db_path = tmp_path / "a.db"
    summary = run(open_db(db_path), prompts, base, detach=True)
    assert summary.exit_code == EXIT_OK and summary.submitted == 3
    assert "waiting in provider batches 3" in summary.line()
    assert fake.requests("GET", "/v1/batches/batch_1") == []  # submitted, then gone

    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": base}
    outputs = []
    for _ in range(4):  # the fake moves one status per poll: the third look sees it done
        result = CliRunner().invoke(cli, ["batch", str(db_path), "--collect"], env=env)
        outputs.append(result.output)
        assert result.exit_code == EXIT_OK, result.output
    assert "still waiting 1" in outputs[0]
    assert "done 3" in outputs[2]
    assert "no provider-side batch is waiting" in outputs[3]
    db = open_db(db_path)
    assert {r["status"] for r in batch_items(db).values()} == {"done"}
    assert db.execute("SELECT status FROM batch_runs").fetchone()[0] == "done"
    assert len(fake.requests("POST", "/v1/batches")) == 1
    key_nowhere(db_path, *outputs)


def test_collect_takes_no_prompts_file(tmp_path: Path) -> None:
    prompts = write(tmp_path, "id,prompt\na,one\n")
    result = CliRunner().invoke(
        cli, ["batch", str(tmp_path / "a.db"), str(prompts), "--collect"], env={}
    )
    assert result.exit_code == EXIT_CONFIG and "--collect takes no PROMPTS" in result.output
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "a.db")], env={})
    assert result.exit_code == EXIT_CONFIG and "no prompts CSV" in result.output


@pytest.mark.parametrize("ending", ["expired", "cancelled"])
def test_a_batch_cut_short_keeps_its_answers_and_leaves_the_rest_pending(
    tmp_path: Path, httpserver: HTTPServer, ending: str
) -> None:
    fake = FakeApi(expire_after=3, ends_as=ending)
    base = fake.install(httpserver)
    prompts = write(tmp_path, "id,prompt\na,one\nb,two\nc,three\nd,four\ne,five\n")
    db = open_db(tmp_path / "a.db")
    summary = run(db, prompts, base)
    assert summary.exit_code == EXIT_PARTIAL
    assert summary.not_run == 2 and "cut short: 2 rows not run" in summary.line()
    assert any(f"batch_1 {ending}: 2 rows not run" in e for e in summary.errors)
    statuses = {k: r["status"] for k, r in batch_items(db).items()}
    assert statuses == {"a": "done", "b": "done", "c": "done", "d": "pending", "e": "pending"}
    fake.expire_after = None
    again = run(db, prompts, base)
    assert again.exit_code == EXIT_OK and again.already_done == 3 and again.done == 2
    resent = fake.files[fake.batches["batch_2"]["input_file_id"]]
    assert [json.loads(line)["custom_id"] for line in resent.splitlines()] == ["d", "e"]


def test_a_batch_refused_at_validation_stops_with_the_apis_errors(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi(fail_validation=True)
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(db, write(tmp_path, "id,prompt\na,one\nb,two\n"), base)
    assert summary.exit_code == EXIT_CONFIG
    assert "line 1: The model 'nope' does not exist" in summary.errors[0]
    assert {r["status"] for r in batch_items(db).values()} == {"pending"}


def test_one_batch_per_model(tmp_path: Path, httpserver: HTTPServer) -> None:
    fake = FakeApi()
    base = fake.install(httpserver)
    prompts = write(tmp_path, "id,model,prompt\na,gpt-4o,one\nb,gpt-4o-mini,two\nc,gpt-4o,three\n")
    summary = run(open_db(tmp_path / "a.db"), prompts, base)
    assert summary.exit_code == EXIT_OK, summary.errors
    models = [
        {json.loads(line)["body"]["model"] for line in fake.files[name].splitlines()}
        for name in ("file-1", "file-2")
    ]
    assert sorted(map(sorted, models)) == [["gpt-4o"], ["gpt-4o-mini"]]
    assert len(fake.requests("POST", "/v1/batches")) == 2


def test_large_inputs_are_split_within_the_limits(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OpenAIBatches, "max_requests", 4)
    monkeypatch.setattr(OpenAIBatches, "max_bytes", 400)  # about three lines
    fake = FakeApi()
    base = fake.install(httpserver)
    prompts = write(tmp_path, "id,prompt\n" + "".join(f"r{i},question {i}\n" for i in range(10)))
    summary = run(open_db(tmp_path / "a.db"), prompts, base)
    assert summary.exit_code == EXIT_OK, summary.errors
    sizes = [len(content) for name, content in fake.files.items() if name.startswith("file-")]
    inputs = [fake.files[b["input_file_id"]] for b in fake.batches.values()]
    assert all(len(data) <= 400 and data.count(b"\n") <= 4 for data in inputs), sizes
    ids = [json.loads(line)["custom_id"] for data in inputs for line in data.splitlines()]
    assert sorted(ids) == sorted(f"r{i}" for i in range(10))  # each row in exactly one


def test_a_thread_goes_in_rounds_each_turn_with_the_answers_before_it(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi()
    base = fake.install(httpserver)
    prompts = write(tmp_path, "id,thread,prompt\na,t,first\nb,t,second\nc,,alone\n")
    db = open_db(tmp_path / "a.db")
    summary = run(db, prompts, base)
    assert summary.exit_code == EXIT_OK, summary.errors
    rounds = [
        [json.loads(line) for line in fake.files[b["input_file_id"]].splitlines()]
        for b in fake.batches.values()
    ]
    assert [[line["custom_id"] for line in r] for r in rounds] == [["a", "c"], ["b"]]
    assert rounds[1][0]["body"]["messages"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first"},
        {"role": "user", "content": "second"},
    ]
    rows = batch_items(db)
    assert rows["a"]["conversation_id"] == rows["b"]["conversation_id"]


def test_a_server_without_files_gets_a_clear_error(tmp_path: Path, httpserver: HTTPServer) -> None:
    fake = FakeApi(files_api=False)
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(db, write(tmp_path, "id,prompt\na,one\n"), base)
    assert summary.exit_code == EXIT_CONFIG
    assert "no Files endpoint" in summary.errors[0] and "Ollama" in summary.errors[0]
    assert batch_items(db)["a"]["status"] == "pending"
    assert db.execute("SELECT status FROM remote_batches").fetchone()[0] == "abandoned"


def test_a_lost_create_answer_finds_the_batch_instead_of_making_another(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi(create_fails_after_creating=1, poll_errors=2)
    base = fake.install(httpserver)
    summary = run(open_db(tmp_path / "a.db"), write(tmp_path, "id,prompt\na,one\n"), base)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert len(fake.batches) == 1 and len(fake.requests("GET", "/v1/batches")) == 1
    assert fake.answered() == ["one"]


def test_killed_between_upload_and_create_creates_from_the_same_file(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeApi()
    base = fake.install(httpserver)
    prompts = write(tmp_path, "id,prompt\na,one\nb,two\n")
    db = open_db(tmp_path / "a.db")

    async def dies(self: Any, input_file: str, label: str) -> Any:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(OpenAIBatches, "_create", dies)
        with pytest.raises(Killed):
            run(db, prompts, base)
    assert db.execute("SELECT status, input_file_id FROM remote_batches").fetchall() == [
        ("uploaded", "file-1")
    ]
    summary = run(db, prompts, base)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert len(fake.requests("POST", "/v1/files")) == 1
    assert [b["input_file_id"] for b in fake.batches.values()] == ["file-1"]


class Bar:
    """A progress bar that remembers what it was told."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.advanced = 0
        self.labels: list[str] = []

    def start(self, total: int | None, label: str) -> None:
        self.total = total

    def advance(self, amount: int = 1) -> None:
        self.advanced += amount

    def describe(self, text: str) -> None:
        self.labels.append(text)

    def finish(self) -> None:
        pass


def test_the_progress_bar_shows_status_and_counts(tmp_path: Path, httpserver: HTTPServer) -> None:
    bar = Bar()
    prompts = write(tmp_path, "id,prompt\na,one\nb,two\n")
    summary = run(open_db(tmp_path / "a.db"), prompts, FakeApi().install(httpserver), progress=bar)
    assert summary.exit_code == EXIT_OK
    assert bar.total == 2 and bar.advanced == 2
    assert bar.labels[0] == "in_progress 0/2 (failed 0)"


def test_a_provider_without_a_batch_endpoint_refuses_batch_api(tmp_path: Path) -> None:
    from archiver.providers.copilot.client import CopilotSettings

    db = open_db(tmp_path / "a.db")
    sending = registry.get("copilot").sending
    assert sending is not None
    options = BatchOptions(provider="copilot", max_rpm=None, batch_api=True)
    prompts = write(tmp_path, "id,prompt\na,one\n")
    settings = CopilotSettings(Secret("t"), base_url="http://127.0.0.1:9")
    summary = asyncio.run(run_batch(db, prompts, options, settings, sending=sending))
    assert summary.exit_code == EXIT_CONFIG and "no batch endpoint" in summary.errors[0]
    assert batch_items(db)["a"]["status"] == "pending"
