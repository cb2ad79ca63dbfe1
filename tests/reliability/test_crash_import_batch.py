"""kill -9 the import and the batch at random points, re-run, and compare with an
uninterrupted run: the same rows, nothing lost, no answer recorded twice."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest

from archiver.emulator import running_emulator
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.chatgpt.fake.generate import write_export_json
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from tests.support.archive_snapshot import index_complete, integrity_ok, snapshot
from tests.support.fakes import fake_config

pytestmark = pytest.mark.slow

ARCHIVER = [sys.executable, "-m", "archiver"]
TOKEN = ChatGPTFakeConfig().token


def count(db, sql):
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or no tables yet
        return 0


def kill_after(command, db, sql, threshold, env=None):
    """Start ``command``, SIGKILL it once ``sql`` counts ``threshold`` committed rows."""
    process = subprocess.Popen(command, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 60
    while process.poll() is None and count(db, sql) < threshold and time.monotonic() < deadline:
        time.sleep(0.003)
    assert process.poll() is None, "the run ended before the kill"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


# -- import -------------------------------------------------------------------------------------

IMPORTED = "SELECT count(*) FROM conversations"


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "conversations.json"
    write_export_json(path, 400, seed=17)
    reference = path.parent / "reference.db"
    subprocess.run([*ARCHIVER, "import", str(reference), str(path), "-q"], check=True)
    return path, snapshot(reference)


@pytest.mark.parametrize(("seed", "jobs"), [(1, "1"), (2, "1"), (3, "2"), (4, "2")])
def test_killed_import_then_rerun_equals_an_uninterrupted_import(export, tmp_path, seed, jobs):
    """In one process and with the reader process (which also indexes while the writer
    waits): the kill lands between batches, the re-run finishes the index and the rest."""
    path, expected = export
    db = tmp_path / "crash.db"
    command = [*ARCHIVER, "import", str(db), str(path), "-q", "--jobs", jobs]
    kill_after(command, db, IMPORTED, random.Random(seed).randint(1, 300))
    assert count(db, IMPORTED) < 400
    # Killed between batches: the index of the rows already committed is still pending.
    assert count(db, "SELECT count(*) FROM messages_fts_pending") == 1
    subprocess.run(command, check=True, timeout=120)
    assert integrity_ok(db)
    assert index_complete(db)
    assert snapshot(db) == expected


# -- batch --------------------------------------------------------------------------------------

DONE = "SELECT count(*) FROM batch_items WHERE status = 'done'"
ROWS = 24


def write_prompts(path):
    lines = ["id,thread,prompt"]
    for i in range(ROWS):
        thread = f"t{i % 4}" if i < 12 else ""  # four 3-turn threads, then single prompts
        lines.append(f"r{i:02d},{thread},Prompt number {i:02d} about archives")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sent_prompts(emu) -> Counter[str]:
    """How many times upstream received each prompt (user messages in chats prompts created)."""
    sent: Counter[str] = Counter()
    for record in chatgpt_world(emu.state).records.values():
        if record.index is not None:  # generated data, not created by a prompt
            continue
        for node in chatgpt_world(emu.state).detail(record)["mapping"].values():
            message = node.get("message") or {}
            if (message.get("author") or {}).get("role") == "user":
                sent[message["content"]["parts"][0]] += 1
    return sent


def env_for(emu):
    return {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": emu.chatgpt_base_url}


def batch_command(db, csv):
    return [*ARCHIVER, "batch", str(db), str(csv), "-q", "--max-rpm", "60000", "--concurrency", "2"]


def answers(db):
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT item_key, status, prompt, answer FROM batch_items ORDER BY row_number"
        ).fetchall()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_batch_then_rerun_answers_every_row_once(tmp_path, seed):
    csv = tmp_path / "prompts.csv"
    write_prompts(csv)
    config = fake_config(chatgpt_conversations=0, bing_chats=0, latency_ms=25, seed=seed)
    with running_emulator(config) as emu:
        reference = tmp_path / "reference.db"
        subprocess.run(
            batch_command(reference, csv), env={**os.environ, **env_for(emu)}, check=True
        )
    with running_emulator(config) as emu:  # a fresh upstream, so its prompt counts are ours
        env = env_for(emu)
        db = tmp_path / "crash.db"
        kill_after(batch_command(db, csv), db, DONE, random.Random(seed).randint(1, ROWS - 4), env)
        with sqlite3.connect(db) as conn:
            recorded = {
                r[0] for r in conn.execute("SELECT prompt FROM batch_items WHERE status = 'done'")
            }
        subprocess.run(batch_command(db, csv), env={**os.environ, **env}, check=True, timeout=120)
        sent = sent_prompts(emu)
    assert integrity_ok(db)
    assert answers(db) == answers(reference)  # every row answered, same answers, in order
    assert all(status == "done" for _, status, _, _ in answers(db))
    assert all(sent[prompt] == 1 for prompt in recorded)  # recorded answers were never re-asked
    assert sum(sent.values()) <= ROWS + 2  # at most the two in flight at the kill were re-sent
