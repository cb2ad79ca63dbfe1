"""The provider-side batch engine (remote_run.py) over an in-memory ``RemoteBatches``: rounds,
splitting, ids journaled before anything else, resuming, outcomes. No provider, no HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from archiver.batch import remote_store, store
from archiver.batch.csvinput import read_batch_csv
from archiver.batch.remote import (
    FINISHED,
    REFUSED,
    WAITING,
    Journal,
    Part,
    RemoteRequest,
    RemoteResult,
    RemoteStatus,
)
from archiver.batch.remote_run import BatchRefused, RemoteRun, ready_rows, split, thread_before
from archiver.batch.remote_store import StoredItem
from archiver.batch.sender import Answer, CallStats, Thread
from archiver.batch.store import ItemKey
from archiver.flatten.records import FlatConversation
from archiver.progress import NullProgress
from archiver.store import open_db


class Memory:
    """A batch endpoint in memory: each batch finishes after ``polls`` looks; answers echo."""

    name = "memory"
    account = "memory://here"
    max_requests = 100
    max_bytes = 10_000

    def __init__(self, polls: int = 1, never_run: Sequence[str] = (), refuse: bool = False):
        self.stats = CallStats()
        self.polls = polls
        self.never_run = set(never_run)
        self.refuse = refuse
        self.batches: dict[str, dict[str, Any]] = {}
        self.uploads: list[list[bytes]] = []

    def encode(self, request: RemoteRequest) -> bytes:
        turns = "|".join(t.prompt for t in request.thread.history)
        return f"{request.custom_id}:{request.model}:{turns}>{request.prompt}".encode()

    async def submit(self, part: Part, journal: Journal) -> RemoteStatus:
        self.uploads.append(list(part.lines))
        journal.input_file(f"in-{len(self.uploads)}")
        ident = f"b{len(self.batches) + 1}"
        self.batches[ident] = {"lines": list(part.lines), "looks": 0}
        return RemoteStatus(ident, "created", WAITING)

    async def status(self, batch_id: str) -> RemoteStatus:
        batch = self.batches[batch_id]
        batch["looks"] += 1
        if self.refuse:
            return RemoteStatus(batch_id, "failed", REFUSED, errors=("line 1: no",))
        done = batch["looks"] >= self.polls
        return RemoteStatus(batch_id, "done" if done else "running", FINISHED if done else WAITING)

    async def results(
        self, status: RemoteStatus, requests: Mapping[str, RemoteRequest]
    ) -> list[RemoteResult]:
        out = []
        for cid, request in requests.items():
            if cid in self.never_run:
                continue
            if request.prompt == "fail me":
                out.append(RemoteResult(cid, error="refused by the model"))
                continue
            answer = Answer(
                f"re: {request.prompt}",
                request.thread.conversation_id or f"conv-{cid}",
                f"{cid}-answer",
                prompt_tokens=3,
                completion_tokens=2,
            )
            out.append(RemoteResult(cid, answer=answer))
        out.append(RemoteResult("nobody", error="a stray line"))
        return out

    def archive_copy(
        self, thread: Thread, answer: Answer, existing: Sequence[dict[str, Any]], header: Any
    ) -> FlatConversation:
        raise ValueError("no archive copy in these tests")  # logged, never raised


def setup(tmp_path: Path, text: str) -> tuple[Any, int]:
    db = open_db(tmp_path / "a.db")
    csv = tmp_path / "p.csv"
    csv.write_text(text, encoding="utf-8")
    batch_input = read_batch_csv(csv, default_model="m")
    run_id = store.start_run(db, "memory", "m", batch_input, {})
    store.claim_items(db, run_id, "memory", batch_input.rows, retry_failed=False)
    return db, run_id


class Waits:
    def __init__(self) -> None:
        self.seen: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)


def remote_run(db: Any, remote: Memory, waits: Waits | None = None) -> RemoteRun:
    return RemoteRun(
        db, remote, "memory", NullProgress(), poll_interval=7.0, sleep=waits or Waits()
    )


def statuses(db: Any) -> dict[str, str]:
    return dict(db.execute("SELECT item_key, status FROM batch_items").fetchall())


def test_rounds_follow_the_threads(tmp_path: Path) -> None:
    db, run_id = setup(tmp_path, "id,thread,prompt\na,t,one\nb,t,two\nc,,solo\nd,t,three\n")
    remote = Memory()
    waits = Waits()
    runner = remote_run(db, remote, waits)
    asyncio.run(runner.run(run_id, detach=False))
    assert [[line.decode() for line in part] for part in remote.uploads] == [
        ["a:m:>one", "c:m:>solo"],
        ["b:m:one>two"],
        ["d:m:one|two>three"],
    ]
    assert set(statuses(db).values()) == {"done"}
    assert runner.counts.done == 4 and runner.counts.prompt_tokens == 12
    # One look soon after each submission; none is needed between rounds otherwise.
    assert waits.seen == [2.0, 2.0, 2.0]
    rows = {r[0]: r[1] for r in db.execute("SELECT item_key, conversation_id FROM batch_items")}
    assert rows["a"] == rows["b"] == rows["d"] == "conv-a"


def test_finished_batches_record_failures_and_release_what_never_ran(tmp_path: Path) -> None:
    db, run_id = setup(tmp_path, "id,prompt\na,one\nb,fail me\nc,three\n")
    runner = remote_run(db, Memory(never_run=["c"]))
    asyncio.run(runner.run(run_id, detach=False))
    assert statuses(db) == {"a": "done", "b": "failed", "c": "pending"}
    assert runner.counts.not_run == 1
    assert "1 rows not run" in runner.counts.errors[-1]
    # Not sent again in the same run: only one batch was made.
    assert db.execute("SELECT count(*) FROM remote_batches").fetchone()[0] == 1


def test_ids_are_journaled_and_a_rerun_polls_the_same_batch(tmp_path: Path) -> None:
    db, run_id = setup(tmp_path, "id,prompt\na,one\nb,two\n")
    remote = Memory(polls=3)
    asyncio.run(remote_run(db, remote).run(run_id, detach=True))
    row = db.execute("SELECT input_file_id, batch_id, status FROM remote_batches").fetchone()
    assert row == ("in-1", "b1", "created")
    assert set(statuses(db).values()) == {"submitted"}
    claimed = store.claim_items(
        db,
        run_id,
        "memory",
        read_batch_csv(tmp_path / "p.csv", default_model="m").rows,
        retry_failed=True,
    )
    assert {i.status for i in claimed} == {"submitted"}  # a re-run leaves them in their batch
    asyncio.run(remote_run(db, remote).run(run_id, detach=False))
    assert len(remote.uploads) == 1 and set(statuses(db).values()) == {"done"}


def test_a_batch_a_dead_process_never_named_gives_its_rows_back(tmp_path: Path) -> None:
    db, run_id = setup(tmp_path, "id,prompt\na,one\n")
    keys = [i.key for i in remote_store.run_items(db, run_id)]
    remote_store.create(
        db,
        provider="memory",
        account="memory://here",
        run_id=run_id,
        model="m",
        keys=keys,
        input_bytes=10,
    )
    assert statuses(db) == {"a": "submitted"}
    assert remote_store.abandon_unnamed(db, "memory") == 1
    assert statuses(db) == {"a": "pending"}
    assert db.execute("SELECT status FROM remote_batches").fetchone()[0] == "abandoned"


def test_a_refused_batch_stops_the_run_with_its_reasons(tmp_path: Path) -> None:
    db, run_id = setup(tmp_path, "id,prompt\na,one\n")
    with pytest.raises(BatchRefused, match="line 1: no"):
        asyncio.run(remote_run(db, Memory(refuse=True)).run(run_id, detach=False))
    assert statuses(db) == {"a": "pending"}


def test_a_batch_on_another_server_is_left_alone(tmp_path: Path) -> None:
    db, run_id = setup(tmp_path, "id,prompt\na,one\n")
    asyncio.run(remote_run(db, Memory(polls=5)).run(run_id, detach=True))
    elsewhere = Memory()
    elsewhere.account = "memory://elsewhere"
    runner = remote_run(db, elsewhere)
    asyncio.run(runner.collect())
    assert statuses(db) == {"a": "submitted"}
    assert "lives on memory://here" in runner.counts.errors[0]


def stored(key: str, row: int, thread: str | None, status: str, answer: str = "") -> StoredItem:
    return StoredItem(
        ItemKey("p", "m", key, "h"),
        1,
        row,
        thread,
        f"prompt {key}",
        None,
        status,
        answer or None,
        f"conv-{thread}" if answer else None,
        None,
        None,
    )


def test_ready_rows_wait_for_every_earlier_turn() -> None:
    items = [
        stored("a", 1, "t", "done", "A"),
        stored("b", 2, "t", "pending"),
        stored("c", 3, "t", "pending"),
        stored("d", 4, "u", "failed"),
        stored("e", 5, "u", "pending"),
        stored("f", 6, None, "pending"),
        stored("g", 7, "v", "submitted"),
        stored("h", 8, "v", "pending"),
    ]
    assert [i.key.item_key for i in ready_rows(items)] == ["b", "f"]
    thread = thread_before(items, items[2])
    assert [t.prompt for t in thread.history] == ["prompt a"]
    assert (thread.conversation_id, thread.turns_done) == ("conv-t", 1)


def test_split_keeps_both_limits() -> None:
    rows = [(None, None, b"x" * size) for size in (3, 3, 3, 9, 1)]
    parts = list(split(rows, max_requests=2, max_bytes=10))  # type: ignore[arg-type]
    assert [[len(r[2]) for r in part] for part in parts] == [[3, 3], [3], [9], [1]]
