"""``archiver emulator`` as a process: one ready line with the port, clean exit on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.support.emulator_client import AUTH, call

pytestmark = pytest.mark.slow

SCRIPT = "from archiver.emulator.cli import emulator_command; emulator_command()"


def test_cli_prints_ready_line_serves_and_stops() -> None:
    args = [sys.executable, "-c", SCRIPT, "--port", "0", "--conversations", "5", "--seed", "9"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("emulator ready http://127.0.0.1:")
        base = line.split()[-1]
        listing = call("GET", f"{base}/backend-api/conversations", headers=AUTH).json()
        assert listing["total"] == 5 - 0  # seed 9 has no archived chat among the first five
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line
    finally:
        if proc.poll() is None:
            proc.kill()
