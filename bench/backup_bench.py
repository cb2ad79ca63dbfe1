"""Backup against the emulator: 1,000 conversations at 50 ms latency.

Measures wall time against the ideal (requests × latency ÷ concurrency), the requests made, and
the requests of a run with nothing changed (target: one per list)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import ARCHIVER, EMULATOR_TOKEN, Report, emulator, run_timed, summary_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    report = Report("backup")
    flags = ["--conversations", str(args.conversations), "--latency-ms", str(args.latency_ms)]
    with tempfile.TemporaryDirectory() as tmp, emulator(*flags) as url:
        db = str(Path(tmp) / "bench.db")
        env = {"CHATGPT_ACCESS_TOKEN": EMULATOR_TOKEN, "CHATGPT_BASE_URL": f"{url}/backend-api"}
        backup = [*ARCHIVER, "backup", "chatgpt", db, "--max-rpm", "1000000"]
        first = run_timed([*backup, "--concurrency", str(args.concurrency)], env)
        if first.returncode:
            raise SystemExit(f"backup failed: {first.stderr}")
        counts = summary_counts(first.stdout)
        ideal = counts["requests"] * args.latency_ms / 1000 / args.concurrency
        # Nothing changed since: the list requests alone (the account snapshot, 4 requests,
        # is measured apart).
        second = run_timed([*backup, "--no-snapshot"], env)
        only_default = run_timed([*backup, "--no-archived", "--no-snapshot"], env)
        with_snapshot = run_timed(backup, env)
    second_requests = summary_counts(second.stdout)["requests"]
    default_requests = summary_counts(only_default.stdout)["requests"]
    snapshot_requests = summary_counts(with_snapshot.stdout)["requests"] - second_requests
    report.figures = {
        "conversations": counts["new"],
        "requests": counts["requests"],
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "wall_s": round(first.seconds, 2),
        "ideal_s": round(ideal, 2),
        "wall_over_ideal": round(first.seconds / ideal, 3),
        "no_change_requests_both_lists": second_requests,
        "no_change_requests_default_list": default_requests,
        "account_snapshot_requests": snapshot_requests,
    }
    report.check(
        "conversations archived",
        counts["new"],
        f"= {args.conversations}",
        counts["new"] == args.conversations,
    )
    report.check(
        "wall time / ideal",
        round(first.seconds / ideal, 3),
        "report (ideal = requests × latency ÷ concurrency)",
        True,
    )
    report.check(
        "no-change run, default list only: requests", default_requests, "1", default_requests == 1
    )
    report.check(
        "no-change run, default + archived lists: requests",
        second_requests,
        "1 per list (2)",
        second_requests == 2,
    )
    report.emit()


if __name__ == "__main__":
    main()
