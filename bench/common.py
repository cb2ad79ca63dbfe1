"""Shared by the benchmarks: start the emulator as its own process, run archiver commands,
and report results as one JSON line that bench/run.py turns into docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
ARCHIVER = [sys.executable, "-m", "archiver"]
EMULATOR_TOKEN = "emulator-token"  # the emulator's default, not a real credential


@contextmanager
def emulator(*flags: str) -> Iterator[str]:
    """An emulator process (its own core, as a real upstream would be); yields its base URL."""
    process = subprocess.Popen(
        [*ARCHIVER, "emulator", "--port", "0", *flags], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("emulator ready "):
            raise SystemExit(f"emulator did not start: {line!r}")
        yield line.removeprefix("emulator ready ")
    finally:
        process.terminate()
        process.wait(timeout=30)


def emulator_stats(base_url: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/_emulator/stats") as response:
        return json.load(response)


@dataclass
class Timed:
    seconds: float
    returncode: int
    stdout: str
    stderr: str


def run_timed(args: list[str], env: dict[str, str] | None = None) -> Timed:
    started = time.perf_counter()
    result = subprocess.run(
        args, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )
    return Timed(time.perf_counter() - started, result.returncode, result.stdout, result.stderr)


def summary_counts(line: str) -> dict[str, int]:
    """Parse an archiver summary line: 'chatgpt: listed 3, fetched 3, ...'."""
    _, _, rest = line.strip().rpartition(": ")
    counts = {}
    for part in rest.split(", "):
        name, _, value = part.rpartition(" ")
        if value.isdigit():
            counts[name] = int(value)
    return counts


@dataclass
class Report:
    """One benchmark's figures and its checks against targets."""

    benchmark: str
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def check(self, name: str, measured: float, target: str, ok: bool) -> None:
        self.checks.append({"name": name, "measured": measured, "target": target, "ok": ok})

    def emit(self) -> None:
        print(
            json.dumps(
                {"benchmark": self.benchmark, "figures": self.figures, "checks": self.checks}
            )
        )
