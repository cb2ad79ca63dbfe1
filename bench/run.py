"""`make bench`: run every benchmark in bench/ and write docs/benchmarks.md.

Each benchmark is its own process (so peak memory and cold start are its own) and prints one
JSON line: {"benchmark", "figures", "checks": [{"name", "measured", "target", "ok"}]}."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOC = ROOT / "docs" / "benchmarks.md"
# Every benchmark's last report, so that running one alone does not drop the others' rows.
REPORTS = ROOT / "docs" / "benchmarks.json"
# In the order the issues list them; a benchmark whose script is absent is skipped.
BENCHMARKS = [
    "import_bench.py",
    "backup_bench.py",
    "batch_bench.py",
    "pow_bench.py",
    "search_bench.py",
    "reliability_bench.py",
    "serve_bench.py",
    "openai_bench.py",
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"


def run_one(script: str) -> dict:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(BENCH / script)],
        cwd=BENCH,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode or not lines:
        return {
            "benchmark": script.removesuffix("_bench.py"),
            "error": (result.stderr or result.stdout).strip().splitlines()[-5:],
            "seconds": time.monotonic() - started,
        }
    report = json.loads(lines[-1])
    report["seconds"] = time.monotonic() - started
    if "benchmark" not in report or "checks" not in report:
        return {
            "benchmark": script.removesuffix("_bench.py"),
            "error": ["printed no report line (benchmark, figures, checks)"],
            "seconds": report["seconds"],
        }
    return report


def render(reports: list[dict]) -> str:
    out = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        "(a benchmark run alone keeps the others' last figures: see each one's date below).",
        f"Machine: {machine()}.",
        "",
        "| benchmark | check | measured | target | ok |",
        "|---|---|---|---|---|",
    ]
    for report in reports:
        name = report["benchmark"]
        if "error" in report:
            out.append(f"| {name} | did not run | {' / '.join(report['error'])} | | ✗ |")
            continue
        for check in report["checks"]:
            mark = "✓" if check["ok"] else "✗"
            out.append(
                f"| {name} | {check['name']} | {check['measured']} | {check['target']} | {mark} |"
            )
    out += ["", "## Figures", ""]
    for report in reports:
        when = f", {report['measured_at']}" if "measured_at" in report else ""
        out.append(f"### {report['benchmark']} ({report['seconds']:.0f} s{when})")
        out.append("")
        for key, value in report.get("figures", {}).items():
            out.append(f"- `{key}`: {value}")
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. backup")
    args = parser.parse_args()
    wanted = [f"{n}_bench.py" for n in args.names] or BENCHMARKS
    reports = []
    for script in wanted:
        if not (BENCH / script).exists():
            continue
        print(f"running {script} ...", flush=True)
        report = run_one(script)
        reports.append(report)
        for check in report.get("checks", []):
            print(
                f"  {'ok  ' if check['ok'] else 'MISS'} {check['name']}: {check['measured']} (target {check['target']})"
            )
        if "error" in report:
            print("  failed: " + " / ".join(report["error"]))
    # A partial run (`bench/run.py import`) replaces only its own reports: the others are kept
    # from the last run that measured them, so the page always shows every benchmark.
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    kept = json.loads(REPORTS.read_text(encoding="utf-8")) if REPORTS.exists() else {}
    kept.update({r["benchmark"]: {**r, "measured_at": stamp} for r in reports})
    order = [s.removesuffix("_bench.py") for s in BENCHMARKS]
    everything = sorted(
        kept.values(),
        key=lambda r: order.index(r["benchmark"]) if r["benchmark"] in order else len(order),
    )
    DOC.parent.mkdir(exist_ok=True)
    REPORTS.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    DOC.write_text(render(everything) + "\n", encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    failed = [r for r in reports if "error" in r or not all(c["ok"] for c in r["checks"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
