"""End to end against ``archiver emulator``'s OpenAI-compatible routes (a small set: the
behaviour is pinned against the independent fake; this checks the emulator and the provider
agree, as ``make demo`` and ``make bench`` rely on it)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from archiver.batch import BatchOptions
from archiver.batch.runner import run_batch
from archiver.cli import cli
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL
from archiver.providers import registry
from archiver.providers.openai.client import OpenAISettings
from archiver.providers.openai.emulator_world import OpenAIEmulatorConfig
from archiver.store import open_db
from tests.providers.openai.test_batch_plain import write
from tests.support.batching import batch_items
from tests.support.fakes import fake_config
from tests.support.transport import FAST

KEY = OpenAIEmulatorConfig().key


def emulator(**knobs: Any) -> Any:
    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        provider_configs={"openai": OpenAIEmulatorConfig(**knobs)},
    )
    return running_emulator(config)


def stats(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base_url}/_emulator/openai") as response:
        return dict(json.load(response))


def run(db: Any, csv: Path, base_url: str, **values: Any) -> Any:
    options = BatchOptions(
        provider="openai", model="gpt-4o-mini", max_rpm=None, policy=FAST, **values
    )
    sending = registry.get("openai").sending
    assert sending is not None
    settings = OpenAISettings(Secret(KEY), base_url=f"{base_url}/v1")
    return asyncio.run(run_batch(db, csv, options, settings, sending=sending))


def test_plain_mode_paced_by_the_emulators_headers(tmp_path: Path) -> None:
    prompts = write(
        tmp_path,
        "id,thread,prompt\n"
        + "".join(f"r{i},{'t' if i < 3 else ''},question {i}\n" for i in range(12)),
    )
    db = open_db(tmp_path / "a.db")
    with emulator(rpm=1200, window_seconds=0.1) as emu:
        summary = run(db, prompts, emu.base_url, concurrency=4)
        counted = stats(emu.base_url)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert counted["completions"] == 12 and counted["answered_twice"] == 0
    rows = batch_items(db)
    assert rows["r2"]["answer"] == "Answer to: question 2 (turn 3)"
    assert rows["r5"]["answer_model"] == "gpt-4o-mini-2024-07-18"


def test_batch_api_results_in_random_order_and_an_error_file(tmp_path: Path) -> None:
    prompts = write(
        tmp_path,
        "id,prompt\n"
        + "".join(f"r{i},question {i}\n" for i in range(8))
        + f"long,{'z' * 70_000}\nempty,[length] please\n",
    )
    db = open_db(tmp_path / "a.db")
    with emulator(stage_seconds=0.05) as emu:
        summary = run(db, prompts, emu.base_url, batch_api=True, poll_interval=0.05)
        counted = stats(emu.base_url)
        world = emu.state.provider_state("openai", lambda c: None)
        output = world.files[next(iter(world.batches.values())).output_file_id].content
    assert summary.exit_code == EXIT_PARTIAL
    assert counted["uploads"] == 1 and counted["batches_created"] == 1
    order = [json.loads(line)["custom_id"] for line in output.splitlines()]
    assert sorted(order) != order or len(order) < 3  # not the input order
    rows = batch_items(db)
    assert all(rows[f"r{i}"]["answer"] == f"Answer to: question {i}" for i in range(8))
    assert "context_length_exceeded" in rows["long"]["error"]
    assert "finish_reason length" in rows["empty"]["error"]


def test_a_local_server_without_batches(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    with emulator(batches=False) as emu:
        summary = run(db, write(tmp_path, "id,prompt\na,one\n"), emu.base_url, batch_api=True)
    assert summary.exit_code == EXIT_CONFIG and "Ollama" in summary.errors[0]


def test_the_cli_and_doctor(tmp_path: Path) -> None:
    prompts = write(tmp_path, "id,prompt\na,one\n")
    with emulator() as emu:
        env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"{emu.base_url}/v1"}
        runner = CliRunner()
        doctor = runner.invoke(cli, ["doctor", "--provider", "openai"], env=env)
        sent = runner.invoke(
            cli,
            [
                "batch",
                str(tmp_path / "a.db"),
                str(prompts),
                "--provider",
                "openai",
                "--model",
                "gpt-4o",
            ],
            env=env,
        )
        refused = runner.invoke(
            cli, ["doctor", "--provider", "openai"], env={**env, "OPENAI_API_KEY": "sk-nope-12345"}
        )
    assert doctor.exit_code == EXIT_OK, doctor.output
    assert "3 models offered" in doctor.output
    assert sent.exit_code == EXIT_OK and "batch openai: run 1, rows 1, done 1" in sent.output
    assert refused.exit_code == EXIT_CONFIG and "API key was refused" in refused.output
    assert "sk-nope" not in refused.output and "sk-****" not in refused.output


def test_batch_help_lists_the_providers_own_options() -> None:
    text = CliRunner().invoke(cli, ["batch", "--help"]).output
    for flag in ("--temperature", "--max-tokens", "--json-schema", "--max-tpm", "--key-file"):
        assert flag in text
    for flag in ("--batch-api", "--poll-interval", "--detach", "--collect", "--price-in"):
        assert flag in text


def test_dropped_connections_are_retried_and_each_row_recorded_once(tmp_path: Path) -> None:
    prompts = write(tmp_path, "id,prompt\n" + "".join(f"r{i},question {i}\n" for i in range(10)))
    db = open_db(tmp_path / "a.db")
    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        drop_rate=0.3,
        seed=4,
        provider_configs={"openai": OpenAIEmulatorConfig()},
    )
    with running_emulator(config) as emu:
        summary = run(db, prompts, emu.base_url, max_attempts=8)
        dropped = [e for e in emu.request_log if e.get("dropped")]
    assert summary.exit_code == EXIT_OK, summary.errors
    assert dropped, "the seed drops some answers half-way"
    rows = batch_items(db)
    assert all(rows[f"r{i}"]["answer"] == f"Answer to: question {i}" for i in range(10))
    assert summary.requests == 10 + len(dropped)


def test_a_batch_job_detached_then_collected_by_another_job(tmp_path: Path) -> None:
    from tests.support.jobhelpers import write_job

    (tmp_path / "prompts.csv").write_text("id,prompt\na,one\nb,two\n", encoding="utf-8")
    with emulator(stage_seconds=0) as emu:  # a batch is over at its first look
        common = {"db": "a.db", "schedule": "0 * * * *", "provider": "openai"}
        base = {"openai_base_url": f"{emu.base_url}/v1", "key_env": "MY_OPENAI_KEY"}
        submit = write_job(
            tmp_path,
            "submit",
            kind="batch",
            csv="prompts.csv",
            model="gpt-4o-mini",
            batch_api=True,
            detach=True,
            **common,
            **base,
        )
        collect = write_job(tmp_path, "collect", kind="batch", collect=True, **common, **base)
        env = {"MY_OPENAI_KEY": KEY}
        runner = CliRunner()
        submitted = runner.invoke(cli, ["run", str(submit)], env=env)
        waiting = batch_items(open_db(tmp_path / "a.db"))
        collected = runner.invoke(cli, ["run", str(collect)], env=env)
    assert submitted.exit_code == EXIT_OK, submitted.output
    assert {r["status"] for r in waiting.values()} == {"submitted"}
    assert collected.exit_code == EXIT_OK, collected.output
    rows = batch_items(open_db(tmp_path / "a.db"))
    assert {k: r["status"] for k, r in rows.items()} == {"a": "done", "b": "done"}
