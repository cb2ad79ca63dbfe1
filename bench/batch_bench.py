"""Batch prompts against the emulator as a 2026 account sends them (sentinel with a proof of
work, then f/conversation): 200 prompts, 20 ms latency, and an account allowance shaped like a
real server's: a token bucket of 600 requests per minute with a burst of 5, answering 429 with
a whole-second ``Retry-After`` (at least 1 s, as HTTP sends it).

Runs, each into a fresh database and a fresh emulator:
- ``--max-rpm 600`` (set right): target ≥ 95% of the allowance achieved;
- ``--max-rpm 1200`` (set too high, issue 27): the limiter must learn the allowance from the
  first 429s and stay under it: target ≥ 90% of the allowance achieved with ≤ 5% of requests
  answered 429. Three runs (``--repeat``), the median reported beside each run's figures: on
  a shared machine one run's share moves by a few points with the load.
Always: zero duplicates (prompts the emulator answered more than once) and zero lost rows.

The allowance is in requests, and a prompt takes two (sentinel + send), so: achieved rate =
requests the server accepted (all but the 429s) ÷ the run's own duration (``batch_runs`` start
to finish, so process start-up is not counted), over the allowance. Requests per prompt =
accepted requests ÷ prompts."""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from common import ARCHIVER, EMULATOR_TOKEN, Report, emulator, emulator_stats, run_timed


def write_prompts(path: Path, count: int) -> None:
    lines = ["id,prompt"] + [f"p{i:04d},Prompt number {i}: say something" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def seconds(start: str, end: str) -> float:
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def one_run(
    tmp: Path, prompts: Path, max_rpm: float, allowance: int, latency_ms: int, concurrency: int
) -> dict[str, Any]:
    flags = ["--rate-limit", str(allowance), "--rate-burst", "5", "--latency-ms", str(latency_ms)]
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / f"batch-{int(max_rpm)}.db"
    with emulator(*flags, "--conversations", "1") as url:
        env = {"CHATGPT_ACCESS_TOKEN": EMULATOR_TOKEN, "CHATGPT_BASE_URL": f"{url}/backend-api"}
        command = [*ARCHIVER, "batch", str(db), str(prompts), "--max-rpm", str(max_rpm)]
        result = run_timed([*command, "--concurrency", str(concurrency), "-q"], env)
        stats = emulator_stats(url)
    if result.returncode:
        raise SystemExit(f"batch --max-rpm {max_rpm} failed: {result.stderr or result.stdout}")
    conn = sqlite3.connect(db)
    started, finished = conn.execute("SELECT started_at, finished_at FROM batch_runs").fetchone()
    done, requests = conn.execute(
        "SELECT count(*), sum(attempts) FROM batch_items WHERE status = 'done'"
    ).fetchone()
    rows = conn.execute("SELECT count(*) FROM batch_items").fetchone()[0]
    conn.close()
    elapsed = seconds(started, finished)
    answered = stats["prompts"]
    throttled = stats["rate_limited"]
    accepted = stats["total_requests"] - throttled
    achieved_rpm = 60.0 * accepted / elapsed
    return {
        "max_rpm": max_rpm,
        "rows": rows,
        "done": done,
        "elapsed_s": round(elapsed, 2),
        "answers_per_min": round(60.0 * done / elapsed, 1),
        "achieved_rpm": round(achieved_rpm, 1),
        "achieved_share": round(achieved_rpm / allowance, 3),
        "requests_per_prompt": round(accepted / max(1, done), 2),
        "sentinel_requests": stats["sentinel_issued"],
        "requests": stats["total_requests"],
        "requests_recorded": requests,
        "answered_429": throttled,
        "share_429": round(throttled / max(1, stats["total_requests"]), 3),
        "duplicates": max(0, answered - done),
        "lost": rows - done,
        "wall_s": round(result.seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--allowance", type=int, default=600, help="requests per minute")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs told too high (median)")
    args = parser.parse_args()
    report = Report("batch")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        prompts = tmp / "prompts.csv"
        write_prompts(prompts, args.prompts)
        right = one_run(
            tmp, prompts, args.allowance, args.allowance, args.latency_ms, args.concurrency
        )
        highs = [
            one_run(
                tmp / f"high{n}",
                prompts,
                2 * args.allowance,
                args.allowance,
                args.latency_ms,
                args.concurrency,
            )
            for n in range(args.repeat)
        ]
    high = sorted(highs, key=lambda figures: figures["achieved_share"])[len(highs) // 2]
    for name, figures in (("max_rpm_right", right), ("max_rpm_too_high", high)):
        for key, value in figures.items():
            report.figures[f"{name}.{key}"] = value
    for key in ("achieved_share", "share_429", "answered_429", "elapsed_s"):
        report.figures[f"max_rpm_too_high.runs.{key}"] = [figures[key] for figures in highs]
    report.check(
        f"--max-rpm {args.allowance}: share of allowance achieved",
        right["achieved_share"],
        "≥ 0.95",
        right["achieved_share"] >= 0.95,
    )
    report.check(
        f"--max-rpm {2 * args.allowance}: share of allowance achieved (median of {len(highs)})",
        high["achieved_share"],
        "≥ 0.90",
        high["achieved_share"] >= 0.90,
    )
    report.check(
        f"--max-rpm {2 * args.allowance}: share of requests answered 429 (that run)",
        high["share_429"],
        "≤ 0.05",
        high["share_429"] <= 0.05,
    )
    for name, runs in (("right", [right]), ("too high", highs)):
        duplicates = sum(figures["duplicates"] for figures in runs)
        lost = sum(figures["lost"] for figures in runs)
        report.check(f"{name}: duplicates", duplicates, "0", duplicates == 0)
        report.check(f"{name}: lost rows", lost, "0", lost == 0)
    worst_429 = max(figures["share_429"] for figures in highs)
    report.check(
        f"--max-rpm {2 * args.allowance}: share answered 429, worst of {len(highs)}",
        worst_429,
        "≤ 0.05",
        worst_429 <= 0.05,
    )
    report.emit()


if __name__ == "__main__":
    main()
