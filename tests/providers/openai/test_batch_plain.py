"""``archiver batch --provider openai`` (chat completions) against the independent fake API
(``fake_api.py``, written from PROTOCOL.md §8)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from archiver.batch import BatchOptions
from archiver.cli import cli
from archiver.config import Secret
from archiver.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL
from archiver.providers.openai.client import OpenAISettings
from archiver.store import open_db
from tests.providers.openai.fake_api import KEY, FakeApi, Scripted
from tests.support.batching import batch_items, run_provider_batch
from tests.support.transport import FAST

THREADS = {"A": 4, "B": 3, "C": 3}


def forty_rows(tmp_path: Path, fake: FakeApi) -> Path:
    """40 rows: 3 threads (10 turns, the first of each with a system instruction) and 30
    single rows, one of them far beyond the context; every prompt scripted exactly."""
    rows = []
    for name, turns in THREADS.items():
        for turn in range(1, turns + 1):
            system = f"You are thread {name}" if turn == 1 else ""
            rows.append((f"{name}{turn}", name, system, f"Thread {name}, turn {turn}"))
    for i in range(30):
        prompt = "x" * 30_000 if i == 17 else f"Single question {i}"
        rows.append((f"s{i:02d}", "", "", prompt))
    for index, (_, _, _, prompt) in enumerate(rows):
        fake.answers[prompt] = Scripted(f"Exact answer {index}", 100 + index, 10 + index)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "thread", "system", "prompt"])
    writer.writerows(rows)
    path = tmp_path / "prompts.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def invoke(args: list[str], base_url: str) -> Any:
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": base_url}
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def key_nowhere(db_path: Path, *texts: str) -> None:
    masked = KEY[:5] + "****" + KEY[-4:]
    for path in db_path.parent.glob(db_path.name + "*"):
        data = path.read_bytes()
        assert KEY.encode() not in data and masked.encode() not in data, path
    for text in texts:
        assert KEY not in text and masked not in text


def test_forty_rows_three_threads_beyond_the_bucket(tmp_path: Path, httpserver: HTTPServer) -> None:
    """The issue's check: above the fake's bucket, every row done with its exact answer and
    usage, nothing sent twice, the 429s waited out; the oversize row fails with the API's
    message and the run exits 3; the results CSV carries the usage; the key is nowhere."""
    # 20 a second, one at a time: the first requests (8 at once, before any header says the
    # pace) are over the bucket, whatever the timing.
    fake = FakeApi(rpm=1200, window=0.05)
    base = fake.install(httpserver)
    prompts = forty_rows(tmp_path, fake)
    db_path = tmp_path / "a.db"
    args = ["batch", str(db_path), str(prompts), "--provider", "openai", "--model", "gpt-4o-mini"]
    result = invoke(
        [
            *args,
            "--concurrency",
            "8",
            "--max-rpm",
            "6000",
            "--price-in",
            "0.15",
            "--price-out",
            "0.6",
        ],
        base,
    )
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "context_length_exceeded" in result.output

    db = open_db(db_path)
    rows = batch_items(db)
    oversize = rows["s17"]
    assert oversize["status"] == "failed"
    assert "This model's maximum context length is 8192 tokens" in oversize["error"]
    done = {k: r for k, r in rows.items() if k != "s17"}
    assert len(done) == 39 and all(r["status"] == "done" for r in done.values())
    for index, (key, row) in enumerate(sorted(rows.items(), key=lambda kv: kv[1]["row_number"])):
        if key == "s17":
            continue
        assert row["answer"] == f"Exact answer {index}"
        assert (row["prompt_tokens"], row["completion_tokens"]) == (100 + index, 10 + index)
        assert row["answer_model"] == "gpt-4o-mini-2024-07-18"
        assert row["finish_reason"] == "stop"
    # Nothing answered twice; the bucket refused some requests and they were sent again.
    answered = Counter(fake.answered())
    assert len(answered) == 39 and set(answered.values()) == {1}
    assert fake.count(429) > 0
    # A thread's later turn carries the system instruction and the earlier turns.
    third = next(
        e for e in fake.log if e.get("prompt") == "Thread A, turn 3" and e["status"] == 200
    )
    assert third["body"]["messages"] == [
        {"role": "system", "content": "You are thread A"},
        {"role": "user", "content": "Thread A, turn 1"},
        {"role": "assistant", "content": "Exact answer 0"},
        {"role": "user", "content": "Thread A, turn 2"},
        {"role": "assistant", "content": "Exact answer 1"},
        {"role": "user", "content": "Thread A, turn 3"},
    ]
    assert len({rows[f"A{t}"]["conversation_id"] for t in range(1, 5)}) == 1
    # Every exchange is archived as a conversation of provider openai, the thread as one.
    conversations = db.execute(
        "SELECT count(*) FROM conversations WHERE provider = 'openai'"
    ).fetchone()[0]
    assert conversations == 3 + 29
    texts = [
        r[0]
        for r in db.execute(
            "SELECT text FROM messages WHERE conversation_id = ? ORDER BY depth",
            [rows["B1"]["conversation_id"]],
        )
    ]
    assert texts == [
        "You are thread B",
        "Thread B, turn 1",
        "Exact answer 4",
        "Thread B, turn 2",
        "Exact answer 5",
        "Thread B, turn 3",
        "Exact answer 6",
    ]

    out = tmp_path / "r.csv"
    assert invoke(["results", str(db_path), "--out", str(out)], base).exit_code == 0
    records = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    first = records[0]
    assert (first["prompt_tokens"], first["completion_tokens"]) == ("100", "10")
    assert first["answer_model"] == "gpt-4o-mini-2024-07-18"
    assert first["finish_reason"] == "stop"
    assert float(first["cost"]) == pytest.approx((100 * 0.15 + 10 * 0.6) / 1e6)
    assert "cost " in result.output  # the summary's total
    key_nowhere(db_path, result.output, out.read_text(encoding="utf-8-sig"))

    # Run again: nothing is sent (the failed row waits for --retry-failed).
    before = len(fake.log)
    again = invoke([*args, "-q"], base)
    assert again.exit_code == EXIT_PARTIAL and len(fake.log) == before


def options(**values: Any) -> BatchOptions:
    base: dict[str, Any] = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "max_rpm": None,
        "concurrency": 2,
        "policy": FAST,
    }
    base.update(values)
    return BatchOptions(**base)


def run(db: Any, csv_path: Path, base_url: str, key: str = KEY, **values: Any) -> Any:
    settings = OpenAISettings(Secret(key), base_url=base_url)
    return run_provider_batch(db, csv_path, options(**values), settings)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_refused_key_stops_the_run_with_exit_2_and_leaves_rows_pending(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    base = FakeApi().install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(db, write(tmp_path, "id,prompt\na,one\nb,two\n"), base, key="sk-wrong-key-123456")
    assert summary.exit_code == EXIT_CONFIG
    assert "API key was refused" in summary.errors[0] and "invalid_api_key" in summary.errors[0]
    assert "sk-wr" not in " ".join(summary.errors)  # the masked echo is never shown
    assert {r["status"] for r in batch_items(db).values()} == {"pending"}


def test_a_400_fails_its_row_and_the_others_go_on(tmp_path: Path, httpserver: HTTPServer) -> None:
    fake = FakeApi(max_context_chars=50)
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(
        db, write(tmp_path, f"id,prompt\na,short\nb,{'long ' * 20}\nc,also short\n"), base
    )
    assert summary.exit_code == EXIT_PARTIAL
    rows = batch_items(db)
    assert rows["b"]["status"] == "failed" and rows["b"]["attempts"] == 1  # not retried
    assert "400 context_length_exceeded: This model's maximum context length" in rows["b"]["error"]
    assert rows["a"]["status"] == rows["c"]["status"] == "done"


def test_an_empty_answer_cut_at_its_length_fails_with_that_reason(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi()
    fake.answers["think hard"] = Scripted("", 12, 512, finish_reason="length")
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(db, write(tmp_path, "id,prompt\na,think hard\nb,easy\n"), base, max_attempts=2)
    assert summary.exit_code == EXIT_PARTIAL
    row = batch_items(db)["a"]
    assert row["status"] == "failed" and "finish_reason length" in row["error"]
    assert (row["completion_tokens"], row["finish_reason"]) == (512, "length")  # billed anyway
    assert fake.answered().count("think hard") == 1  # asking again would get the same


def test_insufficient_quota_is_billing_exit_3(tmp_path: Path, httpserver: HTTPServer) -> None:
    fake = FakeApi(insufficient_quota=True)
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(db, write(tmp_path, "id,prompt\na,one\nb,two\n"), base, concurrency=1)
    assert summary.exit_code == EXIT_PARTIAL
    assert "billing, not a rate limit" in summary.errors[0]
    assert len(fake.requests("POST", "/v1/chat/completions")) == 1  # not retried, not waited
    assert {r["status"] for r in batch_items(db).values()} == {"pending"}


def test_server_errors_are_retried_and_answered_once(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi(fail_next=2)
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(db, write(tmp_path, "id,prompt\na,one\n"), base, concurrency=1)
    assert summary.exit_code == EXIT_OK
    assert batch_items(db)["a"]["attempts"] == 3 and fake.answered() == ["one"]


def test_a_killed_run_resumes_without_sending_a_row_twice(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A run stopped after two rows (the key revoked mid-run: the row in flight goes back to
    pending) is resumed by the same command: each row answered once."""
    fake = FakeApi(revoke_after=2)
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    prompts = write(tmp_path, "id,thread,prompt\na,t,first\nb,t,second\nc,,third\nd,,fourth\n")
    first = run(db, prompts, base, concurrency=1)
    assert first.exit_code == EXIT_CONFIG and first.done == 2
    fake.revoke_after = None
    second = run(db, prompts, base, concurrency=1)
    assert second.exit_code == EXIT_OK and second.already_done == 2 and second.done == 2
    assert sorted(fake.answered()) == ["first", "fourth", "second", "third"]
    # The resumed thread's second turn still carries the first.
    second_turn = next(e for e in fake.log if e.get("prompt") == "second" and e.get("answered"))
    assert [m["content"] for m in second_turn["body"]["messages"]] == [
        "first",
        "echo: first",
        "second",
    ]


def test_structured_output_is_checked_and_stored_as_json(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi()
    fake.answers["good"] = Scripted('{"city": "Lisbon", "people": 545000}', 20, 9)
    fake.answers["bad"] = Scripted('{"city": 7}', 20, 4)
    fake.answers["broken"] = Scripted('{"city": "Por', 20, 4, finish_reason="length")
    base = fake.install(httpserver)
    schema = tmp_path / "city.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"city": {"type": "string"}, "people": {"type": "integer"}},
                "required": ["city", "people"],
                "additionalProperties": False,
            }
        ),
        encoding="utf-8",
    )
    db = open_db(tmp_path / "a.db")
    summary = run(
        db,
        write(tmp_path, "id,prompt\ng,good\nb,bad\nx,broken\n"),
        base,
        provider_values={"json_schema": schema, "temperature": 0.2, "max_tokens": 64},
    )
    assert summary.exit_code == EXIT_PARTIAL
    rows = batch_items(db)
    assert json.loads(rows["g"]["answer"]) == {"city": "Lisbon", "people": 545000}
    assert "$.city: expected string" in rows["b"]["error"]
    assert "people" in rows["b"]["error"] and "missing" in rows["b"]["error"]
    assert "not JSON (cut at its length)" in rows["x"]["error"]
    sent = fake.requests("POST", "/v1/chat/completions")[0]["body"]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "city"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["temperature"] == 0.2
    # A compatible server (not api.openai.com) gets the field every such server knows.
    assert sent["max_tokens"] == 64 and "max_completion_tokens" not in sent


def test_a_server_that_wants_the_other_length_field_gets_it(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeApi()
    original = fake._chat

    def newer_only(request: Any, entry: dict[str, Any]) -> Any:
        entry["body"] = json.loads(request.get_data())
        if "max_tokens" in entry["body"]:
            from tests.providers.openai.fake_api import error

            return error(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.",
                "invalid_request_error",
                "unsupported_parameter",
                "max_tokens",
            )
        return original(request, entry)

    fake._chat = newer_only  # type: ignore[method-assign]
    base = fake.install(httpserver)
    db = open_db(tmp_path / "a.db")
    summary = run(
        db,
        write(tmp_path, "id,prompt\na,one\nb,two\n"),
        base,
        concurrency=1,
        provider_values={"max_tokens": 9},
    )
    assert summary.exit_code == EXIT_OK, summary.errors
    bodies = [e["body"] for e in fake.requests("POST", "/v1/chat/completions")]
    assert [("max_tokens" in b, "max_completion_tokens" in b) for b in bodies] == [
        (True, False),
        (False, True),
        (False, True),  # the rest of the run sends the one it wants
    ]


def test_a_system_column_is_refused_by_a_provider_without_system_messages(
    tmp_path: Path,
) -> None:
    from archiver.errors import InputError

    db = open_db(tmp_path / "a.db")
    prompts = write(tmp_path, "id,system,prompt\na,Be brief,hello\n")
    with pytest.raises(InputError, match="'system' column"):
        run_provider_batch(
            db, prompts, BatchOptions(provider="copilot", max_rpm=None), settings=None
        )
    assert db.execute("SELECT count(*) FROM batch_items").fetchone()[0] == 0


def test_the_key_goes_to_its_own_host_only(tmp_path: Path, httpserver: HTTPServer) -> None:
    """A redirect to another host arrives there without the key."""
    other = HTTPServer()
    other.start()
    try:
        seen: list[str | None] = []

        def elsewhere(request: Any) -> Any:
            from werkzeug import Response

            seen.append(request.headers.get("Authorization"))
            return Response(json.dumps({"error": {"message": "no"}}), status=400)

        other.expect_request("/v1/chat/completions").respond_with_handler(elsewhere)
        httpserver.expect_request("/v1/chat/completions").respond_with_data(
            "", status=307, headers={"Location": other.url_for("/v1/chat/completions")}
        )
        db = open_db(tmp_path / "a.db")
        run(db, write(tmp_path, "id,prompt\na,one\n"), httpserver.url_for("/v1"))
        assert seen == [None]
    finally:
        other.clear()
        if other.is_running():
            other.stop()
