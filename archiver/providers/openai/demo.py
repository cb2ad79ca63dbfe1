"""The OpenAI-compatible API's part of ``make demo``: bulk prompts paced by its rate-limit
headers, then the same through its Batch API, with usage and cost recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

# 600 requests a minute stated in its headers, and batches that take a few seconds.
EMULATOR_KNOBS: dict[str, str | int] = {"rpm": 600, "stage_seconds": 1}
QUERIES: tuple[tuple[str, str], ...] = ()

PROMPTS = """id,thread,system,prompt
a1,wal,You answer in one sentence.,What is write-ahead logging?
a2,wal,,And why does SQLite use it?
a3,,,Name three uses of a token bucket.
a4,,You are a poet.,A haiku about backups.
"""

BATCH_PROMPTS = """id,model,prompt
b1,gpt-4o-mini,Summarise the CAP theorem.
b2,gpt-4o-mini,What is a Merkle tree?
b3,gpt-4o,Explain idempotency keys.
"""

PRICES = ("--price-in", "0.15", "--price-out", "0.60")


def steps(run: DemoRun) -> None:
    run.heading(
        "Bulk prompts through an OpenAI-compatible API (OpenAI, Azure, OpenRouter, Ollama, "
        "vLLM): paced by its x-ratelimit headers, usage and cost recorded"
    )
    prompts = run.input_file("api-prompts.csv", PROMPTS)
    run.batch(prompts, "--model", "gpt-4o-mini", "--concurrency", "4", *PRICES)
    run.heading(
        "The Batch API: one JSONL upload and one batch per model, polled, results mapped "
        "back by custom_id (half the price)"
    )
    batch_prompts = run.input_file("api-batch-prompts.csv", BATCH_PROMPTS)
    run.batch(
        batch_prompts, "--model", "gpt-4o-mini", "--batch-api", "--poll-interval", "1", *PRICES
    )
    run.heading("Its answers with their usage (the latest run)")
    run.archiver("results", run.db, "--format", "csv", env={})
