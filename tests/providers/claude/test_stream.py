"""The completion stream read into a turn (sans-I/O): awkward chunking, CRLF, split UTF-8,
the older ``completion`` frames, usage warnings and limits, cut streams; and the same turn
found again in the conversation."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from archiver.errors import RateLimitExceeded, ThrottledUntil, TransientError
from archiver.providers.claude.stream import (
    AnswerPending,
    CompletionReader,
    adopted_turn,
)
from tests.providers.claude import account as acc

ANSWER = "Olá — ça va? 日本語 ✓"


def frames(events: list[dict[str, Any]], end: str = "\r\n") -> bytes:
    return "".join(
        f"event: {e['type']}{end}data: {json.dumps(e, ensure_ascii=False)}{end}{end}"
        for e in events
    ).encode()


def message_events(
    text: str, *, stop: bool = True, limit: str = "within_limit"
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"uuid": "a-1", "parent_uuid": "h-1", "model": "m"}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "summaries": []},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "hmm, "},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "let me see"},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_summary_delta", "summary": {"summary": "Pondering"}},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "web_search",
                "input": {},
            },
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"query": '},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '"fado"}'},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "text", "text": "", "citations": []},
        },
    ]
    events += [
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "text_delta", "text": text[i : i + 4]},
        }
        for i in range(0, len(text), 4)
    ]
    events += [
        {"type": "content_block_stop", "index": 2},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
        {
            "type": "message_limit",
            "message_limit": {
                "type": limit,
                "windows": {"5h": {"status": limit, "resets_at": 1893456000, "utilization": 0.9}},
            },
        },
        {"type": "ping"},
    ]
    if stop:
        events.append({"type": "message_stop"})
    return events


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
@pytest.mark.parametrize("end", ["\r\n", "\n"])
def test_any_chunking_gives_the_same_turn(size: int, end: str) -> None:
    data = frames(message_events(ANSWER), end)
    heard: list[str] = []
    reader = CompletionReader(heard.append)
    for start in range(0, len(data), size):
        reader.feed(data[start : start + size])  # UTF-8 characters split anywhere
    turn = reader.close()
    assert turn.text == ANSWER  # the text blocks only: not the thinking
    assert (turn.assistant_uuid, turn.human_uuid, turn.stop_reason) == ("a-1", "h-1", "end_turn")
    assert [b["type"] for b in turn.blocks] == ["thinking", "tool_use", "text"]
    assert turn.blocks[0]["thinking"] == "hmm, let me see"
    assert turn.blocks[0]["summaries"] == [{"summary": "Pondering"}]
    assert turn.blocks[1]["input"] == {"query": "fado"}
    assert heard[-1] == ANSWER and all(ANSWER.startswith(h) for h in heard)


def test_a_stream_without_message_stop_was_cut() -> None:
    reader = CompletionReader()
    reader.feed(frames(message_events(ANSWER, stop=False)))
    with pytest.raises(TransientError, match="before message_stop"):
        reader.close()


def test_the_older_completion_frames() -> None:
    pieces = ["Hel", "lo ", "wörld"]
    data = "".join(
        "data: "
        + json.dumps(
            {
                "type": "completion",
                "completion": p,
                "stop_reason": "stop_sequence" if n == 2 else None,
                "model": "claude-2",
                "log_id": "x",
                "messageLimit": {"type": "within_limit"},
            }
        )
        + "\n\n"
        for n, p in enumerate(pieces)
    ).encode()
    reader = CompletionReader()
    reader.feed(data)
    assert reader.close().text == "Hello wörld"


def test_message_limit_warnings_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    reader = CompletionReader()
    with caplog.at_level(logging.WARNING, logger="archiver.claude.send"):
        reader.feed(frames(message_events("ok", limit="approaching_limit")))
    turn = reader.close()
    assert turn.limits and turn.limits[0]["type"] == "approaching_limit"
    assert "approaching_limit" in caplog.text and "5h: 90% used" in caplog.text
    assert "2030-01-01T00:00:00" in caplog.text


def test_limit_and_error_events_stop() -> None:
    reader = CompletionReader()
    with pytest.raises(ThrottledUntil) as stopped:
        reader.feed(frames(message_events("ok", limit="exceeded_limit")))
    assert stopped.value.until.isoformat().startswith("2030-01-01T00:00:00")
    assert stopped.value.sending_only
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(TransientError, match="overloaded"):
        CompletionReader().feed(frames([overloaded]))
    limited = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    with pytest.raises(RateLimitExceeded):
        CompletionReader().feed(frames([limited]))


def test_adopted_turn_finds_the_prompt_and_its_answer() -> None:
    detail = acc.conversations()[acc.LISBON]
    found = adopted_turn(detail, parent=acc.L_A2, prompt="Add Sunday")
    assert found is not None and found.adopted
    assert (found.human_uuid, found.assistant_uuid) == (acc.L_H3, acc.L_A3)
    assert found.text == "Added Sunday by the sea."
    # By the uuid we sent, whatever its text.
    by_id = adopted_turn(detail, parent="x", prompt="?", human_uuid=acc.L_H2)
    assert by_id is not None and by_id.assistant_uuid == acc.L_A2
    # Never arrived: None (sending again is safe).
    assert adopted_turn(detail, parent=acc.L_A3, prompt="Add Monday") is None
    # Arrived, answer not finished: look again later, never resend.
    unfinished = acc.conversations()[acc.LISBON]
    for m in unfinished["chat_messages"]:
        if m["uuid"] == acc.L_A3:
            m["stop_reason"] = None
    with pytest.raises(AnswerPending):
        adopted_turn(unfinished, parent=acc.L_A2, prompt="Add Sunday")
