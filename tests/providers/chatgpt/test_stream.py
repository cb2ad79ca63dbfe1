from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from archiver.errors import RateLimitExceeded
from archiver.providers.chatgpt.stream import (
    AnswerStreamReader,
    StreamBroken,
    StreamFailed,
    apply_op,
    build_request,
)
from tests.support.streams import parse_answer_stream

FIXTURES = Path(__file__).parents[2] / "fixtures" / "chatgpt"
CLASSIC = (FIXTURES / "stream_classic.txt").read_bytes()
V1 = (FIXTURES / "stream_v1.txt").read_bytes()


@pytest.mark.parametrize(
    ("body", "encoding", "conversation"),
    [(CLASSIC, "classic", "conv-classic"), (V1, "v1", "conv-v1")],
)
def test_both_encodings_give_the_final_answer(
    body: bytes, encoding: str, conversation: str
) -> None:
    answer = parse_answer_stream([body])
    assert answer.text == "Bonjour, ça va ? 👋"
    assert answer.message_id == "asst-1"
    assert answer.status == "finished_successfully"
    assert answer.finish_details is not None and answer.finish_details["type"] == "stop"
    assert answer.conversation_id == conversation
    assert answer.title == "French greeting"
    assert answer.encoding == encoding
    assert "user-1" in [m["id"] for m in answer.messages]
    assert not answer.cut_at_max_tokens


@pytest.mark.parametrize("body", [CLASSIC, V1], ids=["classic", "v1"])
def test_split_at_every_byte_gives_the_same_answer(body: bytes) -> None:
    whole = parse_answer_stream([body])
    for cut in range(1, len(body)):
        split = parse_answer_stream([body[:cut], body[cut:]])
        assert (split.text, split.message_id, split.conversation_id) == (
            whole.text,
            whole.message_id,
            whole.conversation_id,
        ), cut


@pytest.mark.parametrize("body", [CLASSIC, V1], ids=["classic", "v1"])
def test_stream_cut_anywhere_before_the_end_is_broken(body: bytes) -> None:
    end = body.rindex(b"data: [DONE]")
    # Right before [DONE] too: v1's message_stream_complete has arrived then, yet it is broken.
    for cut in [*range(0, end, 97), end]:
        with pytest.raises(StreamBroken):
            parse_answer_stream([body[:cut]])


def test_v1_bare_value_reuses_previous_path_and_op() -> None:
    doc = apply_op(None, "", "add", {"message": {"content": {"parts": ["a"]}}})
    doc = apply_op(doc, "/message/content/parts/0", "append", "b")
    assert doc["message"]["content"]["parts"] == ["ab"]
    doc = apply_op(doc, "/message/content/parts/0", "truncate", 1)
    doc = apply_op(doc, "/message/content/parts", "append", ["z"])
    doc = apply_op(doc, "/message/x", "add", 1)
    doc = apply_op(doc, "/message/x", "remove", None)
    doc = apply_op(doc, "/message/content/parts/-", "add", "end")
    doc = apply_op(doc, "/message", "frobnicate", 1)  # unknown op: ignored
    assert doc == {"message": {"content": {"parts": ["a", "z", "end"]}}}


def test_unknown_frames_are_ignored_and_errors_raise() -> None:
    ok = (
        b'data: {"type": "something_new", "x": 1}\n\n'
        b"data: not json at all\n\n"
        b'data: {"message": {"id": "a", "author": {"role": "assistant"}, "content": '
        b'{"content_type": "text", "parts": ["hi"]}, "status": "finished_successfully"}, '
        b'"conversation_id": "c", "error": null}\n\n'
        b"data: [DONE]\n\n"
    )
    assert parse_answer_stream([ok]).text == "hi"
    with pytest.raises(StreamFailed):
        parse_answer_stream([b'data: {"message": null, "error": "Something went wrong"}\n\n'])
    with pytest.raises(RateLimitExceeded):
        parse_answer_stream([b'data: {"error": "Too many requests in 1 hour."}\n\n'])


def test_answer_still_in_progress_at_done_is_broken() -> None:
    body = (
        b'data: {"message": {"id": "a", "author": {"role": "assistant"}, "content": '
        b'{"content_type": "text", "parts": ["hi"]}, "status": "in_progress"}}\n\n'
        b"data: [DONE]\n\n"
    )
    with pytest.raises(StreamBroken):
        parse_answer_stream([body])


def test_max_tokens_is_reported() -> None:
    body = (
        b'data: {"message": {"id": "a", "author": {"role": "assistant"}, "content": '
        b'{"content_type": "text", "parts": ["hi"]}, "status": "finished_partial_completion", '
        b'"metadata": {"finish_details": {"type": "max_tokens"}}}, "conversation_id": "c"}\n\n'
        b"data: [DONE]\n\n"
    )
    assert parse_answer_stream([body]).cut_at_max_tokens


def test_build_request() -> None:
    body = build_request(
        "hello", parent_message_id="client-created-root", message_id="m1", model="gpt-4o"
    )
    assert body["action"] == "next"
    assert body["messages"][0]["content"]["parts"] == ["hello"]
    assert body["messages"][0]["id"] == "m1"
    assert body["supported_encodings"] == ["v1"]
    assert "conversation_id" not in body
    cont = build_request(None, parent_message_id="a1", conversation_id="c", action="continue")
    assert "messages" not in cont and cont["conversation_id"] == "c"
    json.dumps(body)


@pytest.mark.parametrize("body", [CLASSIC, V1], ids=["classic", "v1"])
def test_on_text_hears_the_answer_grow_even_from_one_chunk(body: bytes) -> None:
    heard: list[str] = []
    reader = AnswerStreamReader(heard.append)
    reader.feed(body)  # all at once: still one report per event that changed the text
    answer = reader.close()
    assert len(heard) > 2
    assert heard[-1] == answer.text
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(heard))


def test_on_text_ignores_tool_calls_and_thoughts() -> None:
    def add(message_id: str, content: dict[str, object], recipient: str = "all") -> bytes:
        message = {
            "id": message_id,
            "author": {"role": "assistant"},
            "content": content,
            "status": "in_progress",
            "recipient": recipient,
        }
        return f"data: {json.dumps({'message': message, 'conversation_id': 'c'})}\n\n".encode()

    heard: list[str] = []
    reader = AnswerStreamReader(heard.append)
    reader.feed(add("a1", {"content_type": "code", "text": "search('otters')"}, "web"))
    reader.feed(add("a2", {"content_type": "thoughts", "thoughts": [{"content": "Hmm"}]}))
    assert heard == []
    reader.feed(add("a3", {"content_type": "text", "parts": ["Otters"]}))
    assert heard == ["Otters"]
