"""kill -9 the backup at random moments, re-run it, and compare with an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from archiver.emulator import running_emulator
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from tests.support.archive_snapshot import integrity_ok, snapshot
from tests.support.fakes import fake_config

pytestmark = pytest.mark.slow

CONVERSATIONS = 40
CONFIG = fake_config(chatgpt_conversations=CONVERSATIONS, seed=21, latency_ms=40)


def backup_command(db):
    return [
        sys.executable,
        "-m",
        "archiver",
        "backup",
        "chatgpt",
        str(db),
        "-q",
        "--max-rpm",
        "60000",
    ]


def environment(emu):
    return {
        **os.environ,
        "CHATGPT_ACCESS_TOKEN": ChatGPTFakeConfig().token,
        "CHATGPT_BASE_URL": emu.chatgpt_base_url,
    }


def archived_count(db):
    try:  # killed before the first migration committed: the file has no tables yet
        return len(snapshot(db, ("conversations",))["conversations"])
    except sqlite3.OperationalError:
        return 0


@pytest.fixture(scope="module")
def emulator():
    with running_emulator(CONFIG) as emu:
        yield emu


@pytest.fixture(scope="module")
def reference(emulator, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "reference.db"
    subprocess.run(backup_command(path), env=environment(emulator), check=True, timeout=120)
    return snapshot(path)


def wait_for_archived(db, count, process, timeout=60.0):
    """Poll (read-only) until ``count`` conversations are committed; True if the run is still
    going then. Kills aimed this way always land mid-run, however loaded the machine is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if archived_count(db) >= count:
            return True
        time.sleep(0.005)
    return False


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_killed_backup_then_rerun_equals_an_uninterrupted_run(emulator, reference, tmp_path, seed):
    expected = reference
    db = tmp_path / "crash.db"
    # Kill at a random point: right at start-up, or after a random number of commits.
    after = random.Random(seed).choice([0, *range(1, CONVERSATIONS - 5)])
    process = subprocess.Popen(backup_command(db), env=environment(emulator))
    if after == 0:
        time.sleep(random.Random(seed).uniform(0.05, 0.3))
    else:
        assert wait_for_archived(db, after, process), "the run ended before the kill"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL  # it was still running: a real crash
    assert archived_count(db) < CONVERSATIONS
    rerun = subprocess.run(backup_command(db), env=environment(emulator), timeout=120)
    assert rerun.returncode == 0
    assert integrity_ok(db)
    assert snapshot(db) == expected
