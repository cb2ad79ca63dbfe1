from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from archiver.batch import BatchOptions
from archiver.config import Secret
from archiver.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL, InputError
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.store import open_db
from archiver.transport.http import RetryPolicy
from tests.support.batching import batch_items, run_provider_batch
from tests.support.fake_answers import TOKEN, FakeAnswers, answer_for
from tests.support.transport import FAST


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def options(**overrides: Any) -> BatchOptions:
    values: dict[str, Any] = {"max_rpm": None, "concurrency": 3, "policy": FAST}
    values.update(overrides)
    return BatchOptions(provider="chatgpt", **values)


@pytest.fixture
def fake(httpserver):
    upstream = FakeAnswers()
    upstream.base_url = upstream.install(httpserver)
    return upstream


def settings(fake: FakeAnswers, token: str = TOKEN) -> ChatGPTSettings:
    return ChatGPTSettings(base_url=fake.base_url, token=Secret(token))  # type: ignore[attr-defined]


def run(db: Any, csv: Path, fake: FakeAnswers, progress: Any = None, **overrides: Any):
    return run_provider_batch(db, csv, options(**overrides), settings(fake), progress)


PROMPTS = "id,prompt\n" + "".join(f"r{i},Question number {i}\n" for i in range(1, 9))


@pytest.mark.parametrize("encoding", ["classic", "v1"])
def test_every_row_answered_and_archived(tmp_path: Path, fake: FakeAnswers, encoding: str) -> None:
    fake.encoding = encoding
    db = open_db(tmp_path / "a.db")
    summary = run(db, write_csv(tmp_path / "p.csv", PROMPTS), fake)
    assert summary.exit_code == EXIT_OK, summary.errors
    # Two requests a prompt: the sentinel's requirements (with a proof of work), the send.
    assert summary.done == 8 and summary.requests == 16 and fake.sentinel_requests == 8
    rows = batch_items(db)
    for i in range(1, 9):
        row = rows[f"r{i}"]
        assert row["status"] == "done"
        assert row["answer"] == answer_for(f"Question number {i}")
        assert row["attempts"] == 2
        assert row["conversation_id"] and row["message_id"]
    # The archive copy: user + assistant under the root, source 'batch', no extra request.
    assert (
        db.execute("SELECT count(*) FROM conversations WHERE source = 'batch'").fetchone()[0] == 8
    )
    texts = {r[0] for r in db.execute("SELECT text FROM messages WHERE role = 'assistant'")}
    assert answer_for("Question number 3") in texts
    assert all(b["supported_encodings"] == ["v1"] for b in fake.requests)
    assert all(b["parent_message_id"] == "client-created-root" for b in fake.requests)


def test_rerun_skips_done_rows(tmp_path: Path, fake: FakeAnswers) -> None:
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", PROMPTS)
    run(db, csv, fake)
    again = run(db, csv, fake)
    assert again.already_done == 8 and again.done == 0 and again.exit_code == EXIT_OK
    assert len(fake.requests) == 8
    # A changed prompt under the same id is a new item; the rest stay done.
    write_csv(csv, PROMPTS.replace("Question number 2", "Question number two"))
    third = run(db, csv, fake)
    assert third.done == 1 and third.already_done == 7
    assert fake.requests[-1]["messages"][0]["content"]["parts"] == ["Question number two"]


def test_429_with_retry_after_then_answer(tmp_path: Path, fake: FakeAnswers) -> None:
    fake.faults = [429, 429]
    db = open_db(tmp_path / "a.db")
    summary = run(db, write_csv(tmp_path / "p.csv", "prompt\nonly one\n"), fake)
    assert summary.exit_code == EXIT_OK
    # Every try fetches new sentinel tokens (they are single use): 3 x (sentinel + send).
    assert summary.throttled == 2 and summary.requests == 6 and fake.sentinel_requests == 3
    row = next(iter(batch_items(db).values()))
    assert row["status"] == "done" and row["attempts"] == 6


def test_5xx_is_retried_and_400_is_not(tmp_path: Path, fake: FakeAnswers) -> None:
    fake.faults = [502, 503]
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", "prompt\nfirst\n")
    assert run(db, csv, fake, concurrency=1).exit_code == EXIT_OK
    fake.faults = [400]
    summary = run(db, write_csv(tmp_path / "q.csv", "prompt\nsecond\n"), fake)
    assert summary.exit_code == EXIT_PARTIAL and summary.failed == 1
    failed = [r for r in batch_items(db).values() if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["attempts"] == 2 and failed[0]["answer"] is None
    assert "400" in failed[0]["error"]


def test_broken_stream_is_never_recorded_and_is_retried(tmp_path: Path, fake: FakeAnswers) -> None:
    fake.faults = ["broken"]
    db = open_db(tmp_path / "a.db")
    summary = run(db, write_csv(tmp_path / "p.csv", "prompt\nhello\n"), fake)
    assert summary.exit_code == EXIT_OK
    row = next(iter(batch_items(db).values()))
    # The cut try may have arrived: the conversation is looked up first (the prompt is not
    # there), then sent again: sentinel + send, look-up, sentinel + send.
    assert row["answer"] == answer_for("hello") and row["attempts"] == 5
    assert len(fake.lookups) == 1 and fake.answered["hello"] == 1
    # Broken every time (three tries, three broken streams): failed, no answer recorded.
    fake.faults = ["broken"] * 3
    three_tries = replace(FAST, max_attempts=3)
    summary = run(db, write_csv(tmp_path / "q.csv", "prompt\nagain\n"), fake, policy=three_tries)
    assert summary.failed == 1 and summary.exit_code == EXIT_PARTIAL
    failed = next(r for r in batch_items(db).values() if r["status"] == "failed")
    assert failed["answer"] is None and failed["attempts"] == 3 * 2 + 2
    assert "answer stream" in failed["error"]


def test_retry_failed_retries_only_failures(tmp_path: Path, fake: FakeAnswers) -> None:
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", PROMPTS)
    fake.fail_after = 5
    first = run(db, csv, fake, concurrency=1, policy=RetryPolicy(max_attempts=1))
    assert first.done == 5 and first.failed == 3 and first.exit_code == EXIT_PARTIAL
    fake.fail_after = None
    plain = run(db, csv, fake)
    assert plain.done == 0 and plain.skipped_failed == 3 and plain.exit_code == EXIT_PARTIAL
    retried = run(db, csv, fake, retry_failed=True)
    assert retried.done == 3 and retried.exit_code == EXIT_OK
    assert all(count == 1 for count in fake.answered.values())
    assert len(fake.answered) == 8


THREADS = (
    "id,thread,prompt\n"
    "a1,A,A first\n"
    "b1,B,B first\n"
    "a2,A,A second\n"
    "s1,,standalone\n"
    "a3,A,A third\n"
    "b2,B,B second\n"
)


def test_threads_keep_order_and_chain_parents(tmp_path: Path, fake: FakeAnswers) -> None:
    db = open_db(tmp_path / "a.db")
    summary = run(db, write_csv(tmp_path / "p.csv", THREADS), fake)
    assert summary.exit_code == EXIT_OK
    rows = batch_items(db)
    prompts = [b["messages"][0]["content"]["parts"][0] for b in fake.requests]
    assert [p for p in prompts if p.startswith("A")] == ["A first", "A second", "A third"]
    assert [p for p in prompts if p.startswith("B")] == ["B first", "B second"]
    assert (
        rows["a1"]["conversation_id"]
        == rows["a2"]["conversation_id"]
        == rows["a3"]["conversation_id"]
    )
    assert (
        rows["b1"]["conversation_id"]
        == rows["b2"]["conversation_id"]
        != rows["a1"]["conversation_id"]
    )
    by_prompt = {b["messages"][0]["content"]["parts"][0]: b for b in fake.requests}
    assert "conversation_id" not in by_prompt["A first"]
    assert by_prompt["A second"]["parent_message_id"] == rows["a1"]["message_id"]
    assert by_prompt["A third"]["parent_message_id"] == rows["a2"]["message_id"]
    assert by_prompt["A third"]["conversation_id"] == rows["a1"]["conversation_id"]
    # The archived thread is one conversation: root → user → assistant → user → ...
    cid = rows["a1"]["conversation_id"]
    path = list(
        db.execute(
            "SELECT role, text FROM messages WHERE conversation_id = ? AND on_current_branch = 1 "
            "AND role IS NOT NULL ORDER BY depth",
            [cid],
        )
    )
    assert [r[0] for r in path] == ["user", "assistant"] * 3
    assert [r[1] for r in path[::2]] == ["A first", "A second", "A third"]


class CancelAfter:
    """A progress that kills the run (like Ctrl-C) once ``n`` rows are recorded."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    def start(self, total: int | None, label: str) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        self.seen += amount
        if self.seen >= self.n:
            raise asyncio.CancelledError

    def finish(self) -> None:
        pass


@pytest.mark.parametrize("cut", [1, 3, 6])
def test_killed_run_resumes_without_duplicates_or_losses(
    tmp_path: Path, fake: FakeAnswers, cut: int
) -> None:
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", THREADS + "".join(f"x{i},,extra {i}\n" for i in range(6)))
    with pytest.raises(asyncio.CancelledError):
        run(db, csv, fake, progress=CancelAfter(cut))
    recorded = {k: r for k, r in batch_items(db).items() if r["status"] == "done"}
    assert len(recorded) >= cut
    assert all(r["status"] in ("done", "pending") for r in batch_items(db).values())
    sent_before = len(fake.requests)
    summary = run(db, csv, fake)
    assert summary.exit_code == EXIT_OK
    rows = batch_items(db)
    assert all(r["status"] == "done" for r in rows.values()) and len(rows) == 12
    # Nothing recorded in the first run was sent again.
    later = [b["messages"][0]["content"]["parts"][0] for b in fake.requests[sent_before:]]
    assert not {r["prompt"] for r in recorded.values()} & set(later)
    # Threads resumed from their last done turn: each thread is still ONE conversation.
    assert rows["a1"]["conversation_id"] == rows["a3"]["conversation_id"]
    assert rows["b1"]["conversation_id"] == rows["b2"]["conversation_id"]
    for key in ("a2", "a3", "b2"):
        assert rows[key]["answer"] == answer_for(rows[key]["prompt"])


def test_auth_error_stops_the_run_and_leaves_rows_pending(
    tmp_path: Path, fake: FakeAnswers
) -> None:
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", PROMPTS)
    summary = run_provider_batch(db, csv, options(), settings(fake, "wrong"))
    assert summary.exit_code == EXIT_CONFIG and summary.aborted is not None
    assert summary.not_sent == 8
    assert {r["status"] for r in batch_items(db).values()} == {"pending"}
    assert db.execute("SELECT status FROM batch_runs").fetchone()[0] == "failed"


def test_bad_csv_sends_nothing(tmp_path: Path, fake: FakeAnswers) -> None:
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", "id,prompt\na,fine\na,dup\nb,\n")
    with pytest.raises(InputError) as info:
        run(db, csv, fake)
    assert "line 3" in str(info.value) and "line 4" in str(info.value)
    assert fake.requests == []
    assert db.execute("SELECT count(*) FROM batch_runs").fetchone()[0] == 0


def test_autocontinue_and_model_and_path(tmp_path: Path, fake: FakeAnswers) -> None:
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", "prompt,model\nwrite a lot [long],gpt-4o\nshort,\n")
    summary = run(
        db,
        csv,
        fake,
        model="gpt-4o-mini",
        provider_values={
            "autocontinue": True,
            "conversation_path": "f/conversation",
            "history_disabled": True,
        },
    )
    assert summary.exit_code == EXIT_OK
    answers = {r["prompt"]: r for r in batch_items(db).values()}
    assert answers["write a lot [long]"]["answer"] == "First half second half"
    assert answers["write a lot [long]"]["model"] == "gpt-4o"
    assert answers["short"]["model"] == "gpt-4o-mini"
    continues = [b for b in fake.requests if b["action"] == "continue"]
    assert len(continues) == 1
    long = answers["write a lot [long]"]
    chain = fake.conversations[long["conversation_id"]]
    assert continues[0]["parent_message_id"] == chain[1]  # the answer cut at max_tokens
    assert long["message_id"] == chain[2]  # the next turn chains to the continuation
    assert {b["model"] for b in fake.requests} == {"gpt-4o", "gpt-4o-mini"}
    assert all(b["history_and_training_disabled"] for b in fake.requests)


def test_cleanup_hides_conversations_and_marks_the_archive(
    tmp_path: Path, fake: FakeAnswers
) -> None:
    db = open_db(tmp_path / "a.db")
    summary = run(db, write_csv(tmp_path / "p.csv", THREADS), fake, cleanup=True)
    assert summary.cleaned == 3
    cids = {r["conversation_id"] for r in batch_items(db).values()}
    assert set(fake.patched) == cids
    marked = db.execute(
        "SELECT count(*) FROM conversations WHERE deleted_upstream_at IS NOT NULL"
    ).fetchone()[0]
    assert marked == 3


@pytest.mark.parametrize("fault", ["cut", "lost"])
def test_a_send_that_arrived_is_adopted_not_sent_again(
    tmp_path: Path, fake: FakeAnswers, fault: str
) -> None:
    db = open_db(tmp_path / "a.db")
    run(db, write_csv(tmp_path / "o.csv", "prompt\nan earlier chat\n"), fake)
    fake.faults = [fault]
    summary = run(db, write_csv(tmp_path / "p.csv", "prompt\nhello\n"), fake)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert fake.answered["hello"] == 1  # ChatGPT saw the prompt once
    row = next(r for r in batch_items(db).values() if r["prompt"] == "hello")
    assert row["status"] == "done" and row["answer"] == answer_for("hello")
    if fault == "cut":  # the stream named its conversation before it broke: one look-up
        assert fake.lookups == [f"/backend-api/conversation/{row['conversation_id']}"]
        assert row["attempts"] == 3  # sentinel, send, look-up
    else:  # nothing came back: the newest chats are listed and looked into
        assert fake.lookups[0] == "/backend-api/conversations"
        assert f"/backend-api/conversation/{row['conversation_id']}" in fake.lookups
    # The archive copy holds the adopted exchange under the conversation.
    texts = [
        r[0]
        for r in db.execute(
            "SELECT text FROM messages WHERE conversation_id = ?", [row["conversation_id"]]
        )
    ]
    assert "hello" in texts and answer_for("hello") in texts


WEB_PAGE = "<!doctype html><html><body>Welcome to my blog</body></html>"


@pytest.mark.parametrize("where", ["every route", "the send"])
def test_a_wrong_base_url_stops_at_the_first_answer(tmp_path: Path, httpserver, where: str) -> None:
    """Issue 27: a 200 web page where the API should be (a wrong base URL) was sent every row
    and marked each failed. As backup does: stop at the first answer, exit 2, rows pending."""
    pattern = r".*" if where == "every route" else r"/backend-api/(f/)?conversation$"
    httpserver.expect_request(re.compile(pattern)).respond_with_data(
        WEB_PAGE, content_type="text/html"
    )
    upstream = FakeAnswers()
    base_url = upstream.install(httpserver)  # (the page above wins where both match)
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", PROMPTS)
    settings = ChatGPTSettings(base_url=base_url, token=Secret(TOKEN))
    summary = run_provider_batch(db, csv, options(concurrency=1), settings)
    assert summary.exit_code == EXIT_CONFIG, summary.line()
    assert summary.errors[0].endswith("answered a web page, not the API: wrong base URL?")
    assert {row["status"] for row in batch_items(db).values()} == {"pending"}
    sends = [r for r, _ in httpserver.log if r.path.endswith("conversation")]
    assert len(sends) == (0 if where == "every route" else 1)
