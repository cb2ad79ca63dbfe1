"""Backup against the emulator: 1,000 conversations at 50 ms latency.

Measures wall time against the ideal (requests × latency ÷ concurrency), the requests made, and
the requests of a run with nothing changed (target: one per list, plus the projects sidebar).

Then a 2026 account (``--projects``): session-cookie sign-in, Projects, canvas documents and
files; requests per conversation on a first and a no-change run, files stored vs pointers, and
wall time ÷ ideal again (target for the no-change run: 3 + number of projects requests)."""

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
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--project-conversations", type=int, default=20)
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
        "no_change_requests_both_lists_and_sidebar": second_requests,
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
    # This account has no projects: the sidebar is one request (an empty page).
    report.check(
        "no-change run, default list only: requests",
        default_requests,
        "1 + sidebar (2)",
        default_requests == 2,
    )
    report.check(
        "no-change run, default + archived lists: requests",
        second_requests,
        "1 per list + sidebar (3)",
        second_requests == 3,
    )
    account_2026(args, report)
    report.emit()


def account_2026(args: argparse.Namespace, report: Report) -> None:
    """Projects, files and canvas, signed in with the session cookie."""
    flags = [
        "--conversations",
        str(args.conversations),
        "--latency-ms",
        str(args.latency_ms),
        "--projects",
        str(args.projects),
        "--project-conversations",
        str(args.project_conversations),
        "--challenge-script-agents",
    ]
    with tempfile.TemporaryDirectory() as tmp, emulator(*flags) as url:
        db = str(Path(tmp) / "bench2026.db")
        env = {
            "CHATGPT_SESSION_TOKEN": "emulator-session",
            "CHATGPT_BASE_URL": f"{url}/backend-api",
        }
        backup = [*ARCHIVER, "backup", "chatgpt", db, "--max-rpm", "1000000", "--no-snapshot"]
        first = run_timed([*backup, "--concurrency", str(args.concurrency)], env)
        if first.returncode:
            raise SystemExit(f"2026 backup failed: {first.stderr}")
        counts = summary_counts(first.stdout)
        second = run_timed(backup, env)
        again = summary_counts(second.stdout)
    conversations = counts["new"]
    ideal = counts["requests"] * args.latency_ms / 1000 / args.concurrency
    pointed = counts.get("files_pointed", 0)
    fetched_files = counts.get("files_stored", 0)
    report.figures.update(
        {
            "y2026_conversations": conversations,
            "y2026_projects": counts.get("projects", 0),
            "y2026_first_run_requests": counts["requests"],
            "y2026_first_run_requests_per_conversation": round(
                counts["requests"] / conversations, 3
            ),
            "y2026_no_change_requests": again["requests"],
            "y2026_no_change_requests_per_conversation": round(
                again["requests"] / conversations, 4
            ),
            "y2026_file_pointers": pointed,
            "y2026_files_downloaded": fetched_files,
            "y2026_files_reused": counts.get("files_reused", 0),
            "y2026_textdocs": counts.get("textdocs", 0),
            "y2026_wall_s": round(first.seconds, 2),
            "y2026_ideal_s": round(ideal, 2),
            "y2026_wall_over_ideal": round(first.seconds / ideal, 3),
        }
    )
    expected = args.conversations + args.projects * args.project_conversations
    report.check(
        "2026: conversations archived", conversations, f"= {expected}", conversations == expected
    )
    # The emulator serves 5 projects per sidebar page; the sign-in (api/auth/session) is one
    # request per run on top of the list requests.
    sidebar_pages = -(-args.projects // 5)
    report.check(
        "2026: no-change run requests",
        again["requests"],
        f"1 sign-in + 2 lists + {sidebar_pages} sidebar page(s) + {args.projects} projects",
        again["requests"] == 1 + 2 + sidebar_pages + args.projects,
    )
    report.check(
        "2026: files downloaded + reused = pointers",
        fetched_files + counts.get("files_reused", 0),
        f"= {pointed}",
        fetched_files + counts.get("files_reused", 0) == pointed,
    )
    report.check(
        "2026: wall time / ideal",
        round(first.seconds / ideal, 3),
        "report (ideal = requests × latency ÷ concurrency)",
        True,
    )


if __name__ == "__main__":
    main()
