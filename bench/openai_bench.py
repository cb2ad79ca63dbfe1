"""Bulk prompts through the emulator's OpenAI-compatible API (``--provider openai``), with an
allowance the server states in its ``x-ratelimit-*`` headers and enforces over one-second
windows (a burst is refused while the minute still has room), answering 429 with
``retry-after-ms``. Nothing tells the client the allowance but those headers: no --max-rpm.

- requests: 200 prompts against 600 requests a minute (20 ms latency, 4 in flight): the share
  of the allowance used over the run (accepted requests ÷ (minutes × 600)), target ≥ 0.95, with
  at most 2% of requests answered 429;
- tokens: 120 prompts of ~400 characters with --max-tokens 150 against 6,000 requests and
  120,000 tokens a minute (so tokens bind): the share of the token allowance used (the tokens
  the server charged up front, its prompt estimate plus max_tokens), same targets;
- Batch API: 30 rows with --batch-api, killed (SIGKILL) while the batch is in progress, then
  run again: uploads and batches created over both processes (exactly 1 each), and a clean run
  of its own (1 each); every row done, none answered twice.

Requests per row: every request the client made (429s included) ÷ rows. The run's own duration
is ``batch_runs`` start to finish (process start-up not counted)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from common import ARCHIVER, Report, emulator, run_timed

KEY = "emulator-openai-key"  # the emulator's default, not a real credential


def openai_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/_emulator/openai") as response:
        return dict(json.load(response))


def seconds(start: str, end: str) -> float:
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def write_prompts(path: Path, count: int, length: int = 0, label: str = "Prompt") -> None:
    pad = " " + "x" * length if length else ""
    lines = ["id,prompt"] + [f"p{i:04d},{label} number {i}{pad}" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def env_for(url: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"{url}/v1"}


def db_figures(db: Path) -> tuple[float, int, int]:
    conn = sqlite3.connect(db)
    started, finished = conn.execute(
        "SELECT min(started_at), max(finished_at) FROM batch_runs"
    ).fetchone()
    done, rows = conn.execute("SELECT sum(status = 'done'), count(*) FROM batch_items").fetchone()
    conn.close()
    return seconds(started, finished), int(done or 0), int(rows)


def paced_run(
    tmp: Path, name: str, prompts: Path, knobs: dict[str, Any], extra: list[str], latency: int
) -> dict[str, Any]:
    flags = ["--latency-ms", str(latency)]
    for key, value in knobs.items():
        flags += ["--set", f"openai.{key}={value}"]
    db = tmp / f"{name}.db"
    with emulator(*flags) as url:
        command = [*ARCHIVER, "batch", str(db), str(prompts), "--provider", "openai"]
        result = run_timed(
            [*command, "--model", "gpt-4o-mini", "--concurrency", "4", "-q", *extra], env_for(url)
        )
        stats = openai_stats(url)
    if result.returncode:
        raise SystemExit(f"{name} failed: {result.stderr or result.stdout}")
    elapsed, done, rows = db_figures(db)
    accepted = stats.get("completions", 0)
    throttled = stats.get("rate_limited", 0)
    figures: dict[str, Any] = {
        "rows": rows,
        "done": done,
        "elapsed_s": round(elapsed, 2),
        "accepted_requests": accepted,
        "answered_429": throttled,
        "share_429": round(throttled / max(1, accepted + throttled), 4),
        "requests_per_row": round((accepted + throttled) / max(1, rows), 3),
        "duplicates": stats.get("answered_twice", 0),
        "lost": rows - done,
    }
    minutes = elapsed / 60.0
    figures["request_share"] = round(accepted / (minutes * knobs["rpm"]), 3)
    if knobs.get("tpm"):
        charged = stats.get("tokens_charged", 0)
        figures["tokens_charged"] = charged
        figures["token_share"] = round(charged / (minutes * knobs["tpm"]), 3)
    return figures


def batch_in_progress(db: Path) -> bool:
    """The run has seen its batch ``in_progress`` (a poll recorded it)."""
    if not db.exists():
        return False
    try:
        conn = sqlite3.connect(db)
        try:
            row = conn.execute(
                "SELECT count(*) FROM remote_batches WHERE status = 'in_progress'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return bool(row and row[0])


def batch_runs(tmp: Path) -> dict[str, Any]:
    """A clean run, then a killed one and its re-run (other prompts: each row asked once)."""
    figures: dict[str, Any] = {}
    with emulator("--set", "openai.stage_seconds=1.5") as url:
        env = {**os.environ, **env_for(url)}
        options = ["--model", "gpt-4o-mini", "--batch-api", "--poll-interval", "0.5", "-q"]

        def start(name: str) -> tuple[list[str], Path, dict[str, int]]:
            csv, db = tmp / f"batch-{name}.csv", tmp / f"batch-{name}.db"
            write_prompts(csv, 30, label=f"{name} batch")
            command = [*ARCHIVER, "batch", str(db), str(csv), "--provider", "openai", *options]
            return command, db, openai_stats(url)

        def finish(name: str, command: list[str], db: Path, before: dict[str, int]) -> None:
            """Run ``command`` to its end; what it (and anything since ``before``) did."""
            result = subprocess.run(command, env=env, capture_output=True, check=False)
            after = openai_stats(url)
            _, done, rows = db_figures(db)
            figures[f"{name}.exit"] = result.returncode
            for key, label in (("uploads", "uploads"), ("batches_created", "batches")):
                figures[f"{name}.{label}"] = after.get(key, 0) - before.get(key, 0)
            figures[f"{name}.done"] = f"{done}/{rows}"
            figures[f"{name}.all_done"] = done == rows

        finish("clean", *start("clean"))

        command, db, before = start("killed")
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while not batch_in_progress(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        polls = openai_stats(url).get("polls", 0) - before.get("polls", 0)
        figures["killed.polls_before_the_kill"] = polls
        finish("killed", command, db, before)  # the re-run

        after = openai_stats(url)
        figures["duplicates"] = after.get("answered_twice", 0)
        requests = after.get("uploads", 0) + after.get("batches_created", 0) + after.get("polls", 0)
        figures["uploads_creates_polls_per_row"] = round(requests / 60, 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args()
    report = Report("openai")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        prompts = tmp / "prompts.csv"
        write_prompts(prompts, args.prompts)
        requests = paced_run(
            tmp, "requests", prompts, {"rpm": 600, "window_seconds": 1.0}, [], args.latency_ms
        )
        long_prompts = tmp / "long.csv"
        write_prompts(long_prompts, 120, length=380)
        tokens = paced_run(
            tmp,
            "tokens",
            long_prompts,
            {"rpm": 6000, "tpm": 120_000, "window_seconds": 1.0},
            ["--max-tokens", "150"],
            args.latency_ms,
        )
        batch = batch_runs(tmp)
    for prefix, figures in (("requests", requests), ("tokens", tokens), ("batch_api", batch)):
        for key, value in figures.items():
            report.figures[f"{prefix}.{key}"] = value
    report.check(
        "600 RPM from headers: share of the allowance used",
        requests["request_share"],
        "≥ 0.95",
        requests["request_share"] >= 0.95,
    )
    report.check(
        "600 RPM: share answered 429",
        requests["share_429"],
        "≤ 0.02",
        requests["share_429"] <= 0.02,
    )
    report.check(
        "120k TPM from headers: share of the token allowance used",
        tokens["token_share"],
        "≥ 0.95",
        tokens["token_share"] >= 0.95,
    )
    report.check(
        "120k TPM: share answered 429", tokens["share_429"], "≤ 0.02", tokens["share_429"] <= 0.02
    )
    for name, figures in (("600 RPM", requests), ("120k TPM", tokens)):
        report.check(
            f"{name}: requests per row",
            figures["requests_per_row"],
            "≤ 1.02",
            figures["requests_per_row"] <= 1.02,
        )
        report.check(f"{name}: duplicates", figures["duplicates"], "0", figures["duplicates"] == 0)
        report.check(f"{name}: lost rows", figures["lost"], "0", figures["lost"] == 0)
    for run in ("clean", "killed"):
        for what in ("uploads", "batches"):
            value = batch[f"{run}.{what}"]
            report.check(f"Batch API, {run} run: {what}", value, "1", value == 1)
        report.check(
            f"Batch API, {run} run: every row done",
            batch[f"{run}.done"],
            "30/30",
            batch[f"{run}.all_done"],
        )
    report.check("Batch API: duplicates", batch["duplicates"], "0", batch["duplicates"] == 0)
    report.emit()


if __name__ == "__main__":
    main()
