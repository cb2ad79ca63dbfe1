"""Finding 4: Ctrl-C during synchronous work in a recorded run (import, reflatten) stops it at
once, the run is recorded 'interrupted', and the interrupt reaches the caller (exit 130)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from archiver.interrupts import interrupt_raises
from archiver.recorder import run_recorded
from archiver.store import open_db


def test_ctrl_c_stops_synchronous_work_at_once(tmp_path):
    steps: list[int] = []

    class Summary:
        exit_code = 0

        def counts(self):
            return {}

        def line(self):
            return "done"

    async def work(_db):
        with interrupt_raises():
            os.kill(os.getpid(), signal.SIGINT)
            for step in range(300):
                time.sleep(0.01)
                steps.append(step)
        return Summary()

    db_path = tmp_path / "a.db"
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(run_recorded(db_path, job="import", kind="import", work=work))
    assert len(steps) < 300  # it did not run to its end first
    assert open_db(db_path).execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
