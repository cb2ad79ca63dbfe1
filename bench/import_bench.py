"""Benchmark ``archiver import`` against chatgpt-to-sqlite 1.0.0 on the same generated export.

Measures, each in its own subprocess (wall time + peak RSS of that process alone):
- floor: stream-parsing conversations.json with ijson and nothing else;
- ours: ``archiver import`` of conversations.json (every node, raw JSON, full-text index; by
  default parsing in a worker process), the same with ``--jobs 1`` (one process), and the same
  export as a zip (read straight from the member stream);
- peer: ``chatgpt-to-sqlite export`` (installed in a separate venv, default bench/.peer-venv:
  ``python -m venv bench/.peer-venv && bench/.peer-venv/bin/pip install chatgpt-to-sqlite==1.0.0``),
  which keeps only the current branch's text and builds no search index.
Ours (default options) and the peer run three times each, alternately; the speed-up is the
ratio of the median wall times, the memory ratio our largest peak over the peer's smallest.
The split of the work comes from the import's own timing line (``-v``): read (inflate and cut
the array), flatten (parse + flatten), insert, index, and each process's CPU share of the wall
time; parse alone is measured in-process with msgspec, orjson and json on the same entries.
Prints one JSON line of figures.

    python bench/import_bench.py [--conversations 2000] [--seed 7] [--peer-venv bench/.peer-venv]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Report  # noqa: E402
from gen_export import generate_export  # noqa: E402

# Runs COMMAND..., then prints wall seconds, CPU seconds and peak RSS (KiB on Linux) of that
# one child and its descendants: ru_maxrss is the largest single process, tree_rss_kb the peak of
# the SUM over the process tree (sampled every 20 ms), which counts an import's worker process.
MEASURE = """
import json, os, resource, subprocess, sys, threading, time

def tree_rss_kb(pid):
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            pass
    return total

start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
peak = [0]
def sample():
    while child.poll() is None:
        peak[0] = max(peak[0], tree_rss_kb(child.pid))
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
stderr = child.stderr.read()
child.wait()
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": child.returncode, "wall": wall, "rss_kb": usage.ru_maxrss,
                  "tree_rss_kb": max(peak[0], usage.ru_maxrss),
                  "cpu": usage.ru_utime + usage.ru_stime, "stderr": stderr.decode()[-3000:]}))
"""

FLOOR = """
import sys, ijson
try:
    backend = ijson.get_backend("yajl2_c")
except ImportError:
    backend = ijson
with open(sys.argv[1], "rb") as f:
    n = sum(1 for _ in backend.items(f, "item", use_float=True, buf_size=256 * 1024))
print(n, backend.backend_name if hasattr(backend, "backend_name") else "", file=sys.stderr)
"""


# Parse alone, per entry as the import cuts them: what each JSON library costs on this export.
PARSE = """
import gc, json, sys, time
gc.disable()
sys.path.insert(0, sys.argv[2])
from archiver.importer.jsonarray import iter_raw_items
with open(sys.argv[1], "rb") as f:
    started = time.perf_counter()
    entries = list(iter_raw_items(f.read))
    out = {"split_s": time.perf_counter() - started}
import msgspec
parsers = {"msgspec": msgspec.json.Decoder().decode, "json": json.loads}
try:
    import orjson
    parsers["orjson"] = orjson.loads
except ImportError:
    out["orjson"] = "not installed"
for name, parse in parsers.items():
    started = time.perf_counter()
    for entry in entries:
        parse(entry)
    out[f"parse_{name}_s"] = time.perf_counter() - started
print(json.dumps(out))
"""


def timings(stderr: str) -> dict[str, float]:
    """The figures of the import's "import timings: name value, ..." line."""
    line = next((text for text in stderr.splitlines() if "import timings:" in text), "")
    figures = {}
    for part in line.split("import timings:", 1)[-1].split(","):
        name, _, value = part.strip().rpartition(" ")
        if name:
            figures[name] = float(value)
    return figures


ROUNDS = 3


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (ROUNDS is odd)."""
    return sorted(runs, key=lambda run: run["wall"])[len(runs) // 2]


def measure(command: list[str]) -> dict[str, float]:
    # Each run starts with the previous run's dirty pages written out: the writeback of one
    # run's database (the peer's especially) is not charged to the next run's wall time.
    os.sync()
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], check=True, capture_output=True, text=True
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{command[0]} failed ({result['rc']}): {result['stderr']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer-venv", type=Path, default=HERE / ".peer-venv")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    conversations_json = args.out / f"export-{args.conversations}-{args.seed}.json"
    if not conversations_json.exists():
        generate_export(
            conversations_json, conversations=args.conversations, seed=args.seed, layout="json"
        )
    export_zip = conversations_json.with_suffix(".zip")
    if not export_zip.exists():
        with zipfile.ZipFile(export_zip, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.write(conversations_json, "conversations.json")

    archiver = str(Path(sys.executable).with_name("archiver"))
    peer = args.peer_venv / "bin" / "chatgpt-to-sqlite"
    figures: dict[str, object] = {
        "conversations": args.conversations,
        "bytes": conversations_json.stat().st_size,
    }
    with tempfile.TemporaryDirectory() as tmp:
        floor = measure([sys.executable, "-c", FLOOR, str(conversations_json)])
        parse = json.loads(
            subprocess.run(
                [sys.executable, "-c", PARSE, str(conversations_json), str(HERE.parent)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        # Ours and the peer, ROUNDS times each, alternately: the speed-up is the ratio of the
        # medians, so one run slowed by the machine (the peer's fsyncs swing its wall time from
        # 15 to 25 s) does not decide it either way.
        have_peer = shutil.which(str(peer)) is not None
        ours_runs, peer_runs = [], []
        for n in range(ROUNDS):
            db = f"{tmp}/ours{n}.db"
            ours_runs.append(measure([archiver, "import", db, str(conversations_json), "-q", "-v"]))
            if have_peer:
                peer_db = f"{tmp}/peer{n}.db"
                peer_runs.append(measure([str(peer), "export", str(conversations_json), peer_db]))
        ours = _median_run(ours_runs)
        single = measure(
            [
                *(archiver, "import", f"{tmp}/single.db", str(conversations_json)),
                *("-q", "-v", "--jobs", "1"),
            ]
        )
        pair = measure(
            [
                *(archiver, "import", f"{tmp}/pair.db", str(conversations_json)),
                *("-q", "-v", "--jobs", "2"),
            ]
        )
        ours_zip = measure([archiver, "import", f"{tmp}/ours-zip.db", str(export_zip), "-q"])
        with sqlite3.connect(f"{tmp}/ours0.db") as conn:
            figures["nodes"] = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            figures["fts_rows"] = conn.execute("SELECT count(*) FROM messages_fts").fetchone()[0]
        peer_run = _median_run(peer_runs) if peer_runs else None
    figures.update(
        floor_s=round(floor["wall"], 2),
        floor_rss_mb=round(floor["rss_kb"] / 1024, 1),
        ours_s=round(ours["wall"], 2),
        ours_cpu_s=round(ours["cpu"], 2),
        ours_rss_mb=round(ours["rss_kb"] / 1024, 1),
        ours_tree_rss_mb=round(ours["tree_rss_kb"] / 1024, 1),
        ours_jobs1_s=round(single["wall"], 2),
        ours_jobs1_cpu_s=round(single["cpu"], 2),
        ours_jobs2_s=round(pair["wall"], 2),
        ours_jobs2_cpu_s=round(pair["cpu"], 2),
        ours_jobs2_tree_rss_mb=round(pair["tree_rss_kb"] / 1024, 1),
        ours_zip_s=round(ours_zip["wall"], 2),
        ours_zip_rss_mb=round(ours_zip["rss_kb"] / 1024, 1),
        ours_zip_tree_rss_mb=round(ours_zip["tree_rss_kb"] / 1024, 1),
    )
    # The split of the work (one process: every phase on one clock), and the core shares of
    # the two-process run.
    one, two = timings(single["stderr"]), timings(pair["stderr"])
    figures.update({k: round(v, 2) if isinstance(v, float) else v for k, v in parse.items()})
    if one:
        figures.update(
            split_read_s=one.get("read"),
            split_parse_flatten_s=one.get("flatten"),
            split_flatten_only_s=round(one.get("flatten", 0) - parse.get("parse_msgspec_s", 0), 2),
            split_insert_s=one.get("insert"),
            split_index_s=one.get("index"),
        )
    if two:
        figures.update(
            jobs2_reader_cpu_s=two.get("reader_cpu"),
            jobs2_writer_cpu_s=two.get("writer_cpu"),
            jobs2_reader_core_share=two.get("reader_share"),
            jobs2_writer_core_share=two.get("writer_share"),
            jobs2_writer_wait_s=two.get("wait"),
        )
    figures["default_used_worker"] = bool(timings(ours["stderr"]).get("reader_cpu"))
    if peer_run is not None:
        figures.update(
            peer_s=round(peer_run["wall"], 2),
            peer_cpu_s=round(peer_run["cpu"], 2),
            peer_rss_mb=round(peer_run["rss_kb"] / 1024, 1),
            ours_runs_s=[round(r["wall"], 2) for r in ours_runs],
            peer_runs_s=[round(r["wall"], 2) for r in peer_runs],
            speedup=round(peer_run["wall"] / ours["wall"], 2),
            # Conservative: our largest peak against the peer's smallest.
            memory_ratio=round(
                max(r["tree_rss_kb"] for r in ours_runs) / min(r["tree_rss_kb"] for r in peer_runs),
                3,
            ),
        )
    else:
        figures["peer"] = f"not installed at {peer}"
    report = Report("import", figures)
    report.check(
        "every node stored and indexed",
        figures["fts_rows"],
        f"= nodes ({figures['nodes']})",
        figures["fts_rows"] == figures["nodes"],
    )
    if peer_run is not None:
        report.check(
            "speed vs chatgpt-to-sqlite 1.0.0 (peer wall ÷ ours)",
            figures["speedup"],
            "≥ 3",
            figures["speedup"] >= 3,
        )
        report.check(
            "peak memory vs the peer (whole process tree)",
            figures["memory_ratio"],
            "≤ 0.333",
            figures["memory_ratio"] <= 1 / 3,
        )
    else:
        report.check("peer installed", 0, "chatgpt-to-sqlite 1.0.0 in bench/.peer-venv", False)
    report.emit()


if __name__ == "__main__":
    main()
