"""Search speed over 1,000,000 messages (not part of ``make test``).

Compares ``search_messages`` with a bare ``MATCH ... ORDER BY rank LIMIT 20`` on the same
database, and times the whole ``archiver search`` command started cold in a subprocess.
The generated database is cached under bench/out/ so later runs start at once.

    .venv/bin/python bench/search_bench.py [--messages 1000000] [--rounds 30] [--cold-runs 15]

Prints a table and one JSON line of figures (milliseconds).
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import Report  # noqa: E402

from archiver.query.connect import open_readonly  # noqa: E402
from archiver.query.search import search_messages  # noqa: E402
from archiver.store.db import open_db, schema_text  # noqa: E402

OUT = ROOT / "bench" / "out"
VOCABULARY = 20_000
MESSAGES_PER_CONVERSATION = 20
LEAN_SEARCH = (
    "import sys, click\n"
    "from archiver.query.connect import open_readonly\n"
    "from archiver.query.search import search_messages\n"
    "hits = search_messages(open_readonly(sys.argv[1]), sys.argv[2])\n"
    "click.echo('\\n'.join(h.snippet for h in hits))\n"
)
BARE = "SELECT rowid, rank FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank LIMIT 20"


def word(rank: int) -> str:
    """A pronounceable, unique word for each vocabulary rank."""
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "zu", "da", "fe"]
    out, n = [], rank + 1
    while n:
        n, digit = divmod(n, len(syllables))
        out.append(syllables[digit])
    return "".join(out)


def generate(path: Path, total: int, seed: int = 7) -> None:
    """Bulk SQL inserts with the FTS insert trigger dropped, then one FTS rebuild."""
    rng = random.Random(seed)
    words = [word(r) for r in range(VOCABULARY)]
    cumulative = list(itertools.accumulate(1.0 / (r + 1) for r in range(VOCABULARY)))  # Zipf
    tmp = path.with_suffix(".tmp")
    for leftover in OUT.glob(tmp.name + "*"):
        leftover.unlink()
    db = open_db(tmp)
    conn = db.conn
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("DROP TRIGGER messages_ai")
    conversations = total // MESSAGES_PER_CONVERSATION
    started = time.perf_counter()
    conn.execute("BEGIN")
    for c in range(conversations):
        cid = f"conv-{c:07d}"
        provider = "bing" if c % 10 == 0 else "chatgpt"
        month = f"20{23 + c * 3 // conversations}-{(c % 12) + 1:02d}"
        conn.execute(
            "INSERT INTO conversations (id, provider, title, create_time, update_time, "
            "current_node, source, first_seen_at, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                cid,
                provider,
                " ".join(rng.choices(words[:2000], k=4)),
                f"{month}-10T12:00:00.000000Z",
                f"{month}-11T12:00:00.000000Z",
                f"n{MESSAGES_PER_CONVERSATION - 1}",
                "api",
                "2025-01-01T00:00:00Z",
                "2025-01-01T00:00:00Z",
            ],
        )
        rows = []
        for i in range(MESSAGES_PER_CONVERSATION):
            text = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(8, 40)))
            rows.append(
                (
                    cid,
                    f"n{i}",
                    f"n{i - 1}" if i else None,
                    i,
                    "user" if i % 2 == 0 else "assistant",
                    "text",
                    text,
                    None if i % 2 == 0 else "gpt-4o",
                    f"{month}-10T12:{i:02d}:00.000000Z",
                    "{}",
                )
            )
        conn.executemany(
            "INSERT INTO messages (conversation_id, id, parent_id, depth, on_current_branch, "
            "role, content_type, text, model_slug, create_time, raw_json) "
            "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if c % 5000 == 4999:
            print(f"  {c + 1} conversations ({time.perf_counter() - started:.0f} s)", flush=True)
    conn.execute("COMMIT")
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")
    trigger = re.search(r"CREATE TRIGGER messages_ai .*?END;", schema_text(), re.S)
    assert trigger is not None
    conn.execute(trigger[0])
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    tmp.rename(path)
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 3),
        "p95_ms": round(percentile(values, 0.95), 3),
    }


def timed(fn, rounds: int) -> list[float]:
    fn()  # warm the page cache and statement cache
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def queries(conn) -> list[str]:
    """Selective to broad: words of several frequencies, AND, a phrase, a prefix."""
    w = word
    return [
        w(15000),
        w(9000),
        w(4000),
        w(2000),
        w(800),
        f"{w(300)} {w(700)}",
        f'"{w(40)} {w(41)}"',
        w(1500)[:-1] + "*",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=15)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"search-{args.messages}.db"
    if not path.exists():
        print(f"generating {args.messages} messages into {path} ...", flush=True)
        generate(path, args.messages)
    conn = open_readonly(path)
    bare_all: list[float] = []
    ours_all: list[float] = []
    filtered_all: list[float] = []
    print(f"{'query':<28}{'hits':>8}{'bare ms':>10}{'search ms':>11}{'filtered ms':>13}")
    for q in queries(conn):
        count = conn.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?", [q]
        ).fetchone()[0]
        bare = timed(lambda q=q: conn.execute(BARE, [q]).fetchall(), args.rounds)
        ours = timed(lambda q=q: search_messages(conn, q), args.rounds)
        filtered = timed(
            lambda q=q: search_messages(conn, q, provider="chatgpt", role="assistant"),
            args.rounds,
        )
        bare_all += bare
        ours_all += ours
        filtered_all += filtered
        print(
            f"{q:<28}{count:>8}{statistics.median(bare):>10.2f}{statistics.median(ours):>11.2f}"
            f"{statistics.median(filtered):>13.2f}"
        )
    cold_query = word(4000)
    cold = []
    lean = []
    for _ in range(args.cold_runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "archiver", "search", str(path), cold_query],
            check=True,
            capture_output=True,
        )
        cold.append((time.perf_counter() - start) * 1000)
        # The floor once the CLI group imports its commands lazily: Python, click and the
        # query modules, no network stack (archiver.cli's package import pulls in aiohttp today).
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", LEAN_SEARCH, str(path), cold_query],
            check=True,
            capture_output=True,
        )
        lean.append((time.perf_counter() - start) * 1000)
    figures = {
        "bench": "search",
        "messages": args.messages,
        "bare_fts": summary(bare_all),
        "search_function": summary(ours_all),
        "search_function_filtered": summary(filtered_all),
        "ratio_median": round(statistics.median(ours_all) / statistics.median(bare_all), 2),
        "cli_cold": summary(cold),
        "lean_cold_floor": summary(lean),
        "targets": {"ratio_median_max": 2.0, "cli_cold_max_ms": 300},
    }
    report = Report("search", figures)
    report.check(
        "search function ÷ bare FTS5 MATCH, median",
        figures["ratio_median"],
        "≤ 2",
        figures["ratio_median"] <= 2.0,
    )
    cold_ms = figures["cli_cold"]["median_ms"]
    report.check("`archiver search` started cold, median ms", cold_ms, "≤ 300", cold_ms <= 300)
    report.emit()


if __name__ == "__main__":
    main()
