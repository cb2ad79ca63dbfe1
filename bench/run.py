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
# In the order the issues list them; a benchmark whose script is absent is skipped.
BENCHMARKS = [
    "import_bench.py",
    "backup_bench.py",
    "batch_bench.py",
    "pow_bench.py",
    "search_bench.py",
    "reliability_bench.py",
    "serve_bench.py",
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
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
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
        out.append(f"### {report['benchmark']} ({report['seconds']:.0f} s)")
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
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(reports) + "\n", encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    failed = [r for r in reports if "error" in r or not all(c["ok"] for c in r["checks"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
