"""Finding 4: Ctrl-C during synchronous work in a recorded run (import, reflatten) stops it at
once, the run is recorded 'interrupted', and the interrupt reaches the caller (exit 130)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from archiver.interrupts import handle_sigterm, interrupt_raises, run_async
from archiver.recorder import run_recorded
from archiver.store import open_db


class Done:
    """What the recorded work returns when it runs to its end (it must not)."""

    exit_code = 0

    def counts(self):
        return {}

    def line(self):
        return "done"


def long_synchronous_work(signum: int, steps: list[int]):
    """Recorded work that signals itself, then works on for 3 s without awaiting."""

    async def work(_db):
        with interrupt_raises():
            os.kill(os.getpid(), signum)
            for step in range(300):
                time.sleep(0.01)
                steps.append(step)
        return Done()

    return work


def test_ctrl_c_stops_synchronous_work_at_once(tmp_path):
    steps: list[int] = []
    work = long_synchronous_work(signal.SIGINT, steps)
    db_path = tmp_path / "a.db"
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(run_recorded(db_path, job="import", kind="import", work=work))
    assert len(steps) < 300  # it did not run to its end first
    assert open_db(db_path).execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


@pytest.fixture
def sigterm_handled():
    previous = signal.getsignal(signal.SIGTERM)
    handle_sigterm()
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("sigint", [signal.default_int_handler, signal.SIG_IGN])
def test_sigterm_stops_synchronous_work_at_once(tmp_path, sigterm_handled, sigint):
    """Issue 27: SIGTERM on its own, whatever SIGINT's disposition (an ignored one stays so)."""
    steps: list[int] = []
    previous_sigint = signal.signal(signal.SIGINT, sigint)
    work = long_synchronous_work(signal.SIGTERM, steps)
    db_path = tmp_path / "a.db"
    try:
        with pytest.raises(KeyboardInterrupt):
            run_async(run_recorded(db_path, job="import", kind="import", work=work))
        assert signal.getsignal(signal.SIGINT) is sigint  # restored (an ignored one untouched)
    finally:
        signal.signal(signal.SIGINT, previous_sigint)
    assert len(steps) < 300
    assert open_db(db_path).execute("SELECT status FROM runs").fetchall() == [("interrupted",)]


def test_sigterm_cancels_a_coroutine_that_awaits(tmp_path, sigterm_handled):
    async def work(_db):
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.sleep(30)
        return Done()

    db_path = tmp_path / "a.db"
    with pytest.raises(KeyboardInterrupt):  # cancelled: slept out, the work would return Done
        run_async(run_recorded(db_path, job="backup", kind="backup", work=work))
    assert open_db(db_path).execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
