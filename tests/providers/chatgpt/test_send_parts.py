"""Sans-I/O parts of the 2026 send: refusals, adopting a stored answer, the 2026 stream."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archiver.errors import AuthError, CapReached, TransientError
from archiver.providers.chatgpt.adopt import AnswerPending, adopted_answer, recent_candidates
from archiver.providers.chatgpt.refusals import OneMessageAtATime, UnusualActivity, raise_for_send
from archiver.providers.chatgpt.sentinel import parse_requirements
from archiver.providers.chatgpt.stream import StreamBroken
from tests.support.streams import parse_answer_stream

URL = "https://chatgpt.com/backend-api/f/conversation"


def _raise(status: int, body: object, headers: dict[str, str] | None = None) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    raise_for_send(status, headers or {}, raw, method="POST", url=URL)


def test_refusals_are_told_apart() -> None:
    with pytest.raises(UnusualActivity) as unusual:
        _raise(403, {"detail": "Unusual activity has been detected from your device. Try again."})
    assert unusual.value.exit_code == 3 and "Turnstile" in str(unusual.value)
    with pytest.raises(CapReached) as cap:
        _raise(
            429,
            {"detail": {"code": "model_cap_exceeded", "message": "too many", "clears_in": 5400}},
        )
    assert cap.value.retry_after == 5400 and "1 h 30 min" in str(cap.value)
    with pytest.raises(OneMessageAtATime):
        _raise(429, {"detail": "Only one message at a time. Please allow..."})
    with pytest.raises(AuthError):  # another 403: the credentials
        _raise(403, {"detail": "Forbidden"})
    with pytest.raises(TransientError):
        _raise(502, b"<html>bad gateway</html>", {"Content-Type": "text/html"})
    raise_for_send(200, {}, b"", method="POST", url=URL)  # a 2xx: nothing raised


def test_requirements_parse() -> None:
    plain = parse_requirements(
        {
            "token": "t",
            "proofofwork": {"required": True, "seed": "0.1", "difficulty": "0fffff"},
            "turnstile": {"required": True, "dx": "x"},
        }
    )
    assert (plain.token, plain.seed, plain.difficulty) == ("t", "0.1", "0fffff")
    assert plain.proof_required and plain.turnstile_required
    two_step = parse_requirements({"prepare_token": "p", "proofofwork": {"required": False}})
    assert two_step.token is None and two_step.prepare_token == "p"
    assert not two_step.proof_required


def _message(ident: str, role: str, text: str, status: str = "finished_successfully") -> dict:
    return {
        "id": ident,
        "author": {"role": role},
        "content": {"content_type": "text", "parts": [text]},
        "status": status,
        "recipient": "all",
        "metadata": {"finish_details": {"type": "stop"}},
    }


def _detail(*messages: dict) -> dict:
    mapping: dict[str, Any] = {
        "root": {"id": "root", "message": None, "parent": None, "children": []}
    }
    parent = "root"
    for m in messages:
        node = f"n-{m['id']}"
        mapping[parent]["children"].append(node)
        mapping[node] = {"id": node, "message": m, "parent": parent, "children": []}
        parent = node
    return {"title": "Rivers", "mapping": mapping}


def test_adopting_finds_the_answer_under_our_message() -> None:
    detail = _detail(
        _message("u0", "user", "earlier"),
        _message("a0", "assistant", "earlier answer"),
        _message("u1", "user", "hello"),
        _message("t1", "tool", "a search"),
        _message("a1", "assistant", "Hello back"),
    )
    adopted = adopted_answer(detail, "c1", "u1")
    assert adopted is not None
    assert (adopted.message_id, adopted.text, adopted.title) == ("a1", "Hello back", "Rivers")
    assert [m["id"] for m in adopted.messages] == ["u1", "t1", "a1"]
    assert adopted_answer(detail, "c1", "never-sent") is None
    pending = _detail(_message("u1", "user", "hi"), _message("a1", "assistant", "", "in_progress"))
    with pytest.raises(AnswerPending):
        adopted_answer(pending, "c1", "u1")
    with pytest.raises(AnswerPending):
        adopted_answer(_detail(_message("u1", "user", "hi")), "c1", "u1")


def test_recent_candidates_are_the_newest_since_the_send() -> None:
    listing = {
        "items": [
            {"id": "new", "update_time": "2026-12-01T10:00:00Z"},
            {"id": "old", "update_time": "2026-11-01T10:00:00Z"},
        ]
    }
    since = 1_796_119_200.0  # 2026-12-01T09:20:00Z
    assert recent_candidates(listing, since=since) == ["new"]


def _sse(payload: object, event: str | None = None) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()


def _stream_2026(done: bool = True) -> bytes:
    user = _message("u1", "user", "hi")
    answer = {**_message("a1", "assistant", "", "in_progress"), "metadata": {"a": 1}}
    frames = [
        _sse('"v1"', "delta_encoding"),
        _sse({"type": "resume_conversation_token", "token": "r"}),
        _sse(
            {"p": "", "o": "add", "v": {"message": user, "conversation_id": "c1"}, "c": 0}, "delta"
        ),
        _sse({"type": "input_message", "input_message": user}),
        _sse(
            {"p": "", "o": "add", "v": {"message": answer, "conversation_id": "c1"}, "c": 1},
            "delta",
        ),
        _sse({"type": "server_ste_metadata", "metadata": {"resolved_model_slug": "x"}}),
        _sse({"p": "/message/content/parts/0", "o": "append", "v": "Hel", "c": 1}, "delta"),
        _sse({"p": "/message/metadata", "o": "append", "v": {"seen": True}, "c": 0}, "delta"),
        _sse({"p": "/message/content/parts/0", "o": "append", "v": "lo", "c": 1}, "delta"),
        _sse({"type": "brand_new_frame_type", "whatever": [1, 2]}),
        _sse(
            {
                "o": "patch",
                "v": [
                    {"p": "/message/status", "o": "replace", "v": "finished_successfully"},
                    {"p": "/message/metadata", "o": "append", "v": {"b": 2}},
                ],
            },
            "delta",
        ),
        _sse({"type": "title_generation", "title": "Greetings", "conversation_id": "c1"}),
        _sse({"type": "stream_handoff"}),
        _sse({"type": "message_stream_complete", "conversation_id": "c1"}),
    ]
    if done:
        frames.append(_sse("[DONE]"))
    return b"".join(frames)


def test_the_2026_stream_keeps_channels_apart_and_merges_metadata() -> None:
    answer = parse_answer_stream([_stream_2026()])
    assert (answer.text, answer.title, answer.conversation_id) == ("Hello", "Greetings", "c1")
    assert answer.message["metadata"] == {"a": 1, "b": 2}  # append on an object merges
    user = next(m for m in answer.messages if m["id"] == "u1")
    assert user["metadata"] == {"finish_details": {"type": "stop"}, "seen": True}
    assert user["content"]["parts"] == ["hi"]  # channel 0's note never touched the answer


def test_the_2026_stream_without_done_is_broken() -> None:
    with pytest.raises(StreamBroken):
        parse_answer_stream([_stream_2026(done=False)])
