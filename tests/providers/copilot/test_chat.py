"""The Copilot chat socket state machine and event splitter, under any frame split and the
order variants §5 allows (connected twice, ping anywhere, challenges before or after
``received``)."""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.errors import AuthError, ChallengeError
from archiver.providers.copilot.chat import (
    CopilotSocketBroken,
    CopilotStopped,
    CopilotTurn,
    EventSplitter,
    hashcash_terms,
    leading_zero_bits,
    solve_hashcash,
)

ANSWER: list[dict[str, Any]] = [
    {"event": "received", "messageId": "u1"},
    {"event": "startMessage", "messageId": "a1"},
    {"event": "appendText", "messageId": "a1", "partId": "p1", "text": "Grüße 🌍 "},
    {"event": "appendText", "messageId": "a1", "partId": "p1", "text": '"quoted" {braces}'},
    {"event": "partCompleted", "messageId": "a1", "partId": "p1"},
    {"event": "citation", "messageId": "a1", "title": "T", "url": "https://e.org/x"},
    {"event": "appendText", "messageId": "a1", "partId": "p2", "text": "Second part."},
    {"event": "replaceText", "messageId": "a1", "partId": "p2", "text": "Second part, fixed."},
    {"event": "imageGenerated", "messageId": "a1", "url": "https://i.org/x.png"},
    {"event": "titleUpdate", "conversationId": "c1", "title": "Greetings"},
    {"event": "suggestedFollowups", "suggestions": ["More?"]},
    {"event": "done", "messageId": "a1"},
]
TEXT = 'Grüße 🌍 "quoted" {braces}\n\nSecond part, fixed.'


def play(events: list[dict], turn: CopilotTurn | None = None) -> tuple[CopilotTurn, list[dict]]:
    turn = turn or CopilotTurn("c1", "Hello")
    out: list[dict] = []
    for event in events:
        out.extend(turn.receive(event))
    return turn, out


def kinds(out: list[dict]) -> list[str]:
    return [e["event"] for e in out]


def test_connected_twice_sends_the_prompt_once() -> None:
    turn, out = play([{"event": "connected"}, {"event": "connected"}, *ANSWER])
    assert kinds(out) == ["setOptions", "reportLocalConsents", "send"]
    send = out[2]
    assert send == {
        "event": "send",
        "conversationId": "c1",
        "content": [{"type": "text", "text": "Hello"}],
        "mode": "chat",
        "context": {},
    }
    assert out[1] == {"event": "reportLocalConsents", "grantedConsents": []}
    answer = turn.result()
    assert answer.text == TEXT
    assert (answer.message_id, answer.user_message_id, answer.title) == ("a1", "u1", "Greetings")
    assert answer.citations == [{"messageId": "a1", "title": "T", "url": "https://e.org/x"}]
    assert answer.images[0]["url"] == "https://i.org/x.png"
    user, ai = answer.messages()
    assert user["id"] == "u1" and user["author"] == {"type": "human"}
    assert ai["id"] == "a1" and [p["type"] for p in ai["content"]] == [
        "text",
        "text",
        "citation",
        "image",
    ]


def test_ping_is_answered_with_pong_anywhere() -> None:
    events = [
        {"event": "ping"},
        {"event": "connected"},
        *ANSWER[:3],
        {"event": "ping"},
        *ANSWER[3:],
    ]
    turn, out = play(events)
    assert kinds(out) == ["pong", "setOptions", "reportLocalConsents", "send", "pong"]
    assert turn.finished and turn.result().text == TEXT


def test_done_before_connected_does_not_finish() -> None:
    turn, _ = play([{"event": "done", "messageId": "old"}])
    assert not turn.finished
    with pytest.raises(CopilotSocketBroken):
        turn.result()


def test_empty_challenge_is_answered_and_the_prompt_re_sent() -> None:
    turn, out = play(
        [{"event": "connected"}, {"event": "challenge", "method": "", "parameter": "", "id": "ch1"}]
    )
    assert out[3] == {"event": "challengeResponse", "token": "", "id": "ch1"}
    assert out[4] == out[2]  # the same send again: the first was not taken
    play(ANSWER, turn)
    assert turn.result().text == TEXT and turn.result().challenges == 1


def test_challenge_after_received_is_answered_without_re_sending() -> None:
    _, out = play(
        [
            {"event": "connected"},
            {"event": "received", "messageId": "u1"},
            {
                "event": "challenge",
                "method": "hashcash",
                "parameter": "abc",
                "difficulty": 8,
                "id": 7,
            },
        ]
    )
    assert kinds(out) == ["setOptions", "reportLocalConsents", "send", "challengeResponse"]
    reply = out[-1]
    assert reply["id"] == 7
    digest = hashlib.sha256(("abc" + reply["token"]).encode()).digest()
    assert leading_zero_bits(digest) >= 8


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"parameter": "p", "difficulty": 5}, ("p", 5)),
        ({"parameter": "p", "bits": "6"}, ("p", 6)),
        ({"parameter": "9:pre"}, ("pre", 9)),
        ({"parameter": {"prefix": "x", "difficulty": 3}}, ("x", 3)),
        ({"parameter": {"challenge": "y", "bits": 2}}, ("y", 2)),
        ({"parameter": "plain"}, ("plain", 0)),
    ],
)
def test_hashcash_variants(event: dict, expected: tuple[str, int]) -> None:
    assert hashcash_terms(event) == expected


def test_hashcash_is_bounded() -> None:
    assert leading_zero_bits(b"\x00\x0f" + b"\xff" * 30) == 12
    token = solve_hashcash("prefix", 10)
    assert leading_zero_bits(hashlib.sha256(b"prefix" + token.encode()).digest()) >= 10
    with pytest.raises(ChallengeError, match="more than"):
        solve_hashcash("prefix", 40)
    turn = CopilotTurn("c", "p", max_hashcash_bits=4)
    turn.receive({"event": "connected"})
    with pytest.raises(ChallengeError) as info:
        turn.receive(
            {"event": "challenge", "method": "hashcash", "parameter": "a", "difficulty": 30}
        )
    assert info.value.exit_code == 3


def test_cloudflare_and_unknown_challenges_stop() -> None:
    for method in ("cloudflare", "turnstile", "captcha"):
        turn = CopilotTurn("c", "p")
        turn.receive({"event": "connected"})
        with pytest.raises(ChallengeError) as info:
            turn.receive({"event": "challenge", "method": method, "parameter": "x", "id": 1})
        assert info.value.exit_code == 3
        assert "browser" in str(info.value)


def test_error_events_stop_with_a_clear_message() -> None:
    turn = CopilotTurn("c", "p")
    turn.receive({"event": "connected"})
    with pytest.raises(CopilotStopped) as info:
        turn.receive({"event": "error", "errorCode": "rateLimited", "message": "Slow down"})
    assert info.value.exit_code == 3
    assert "rateLimited" in str(info.value) and "Slow down" in str(info.value)
    with pytest.raises(AuthError) as auth:
        CopilotTurn("c", "p").receive({"event": "error", "errorCode": "unauthorized"})
    assert auth.value.exit_code == 2 and "about a day" in str(auth.value)


# --- the splitter, fuzzed ---------------------------------------------------------------------

SERVER = [{"event": "connected"}, {"event": "connected"}, {"event": "ping"}, *ANSWER]
STREAM = "".join(json.dumps(e, ensure_ascii=False) for e in SERVER).encode()
cuts = st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=40)


def chunked(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({0, len(data), *(c % (len(data) + 1) for c in points)})
    return [data[a:b] for a, b in itertools.pairwise(marks)]


def run_frames(frames: list[bytes | str]) -> tuple[CopilotTurn, list[dict]]:
    splitter = EventSplitter()
    turn = CopilotTurn("c1", "Hello")
    out: list[dict] = []
    for frame in frames:
        for event in splitter.feed(frame):
            out.extend(turn.receive(event))
    assert not splitter.pending
    return turn, out


def test_one_event_per_frame_and_all_in_one() -> None:
    single = [json.dumps(e, ensure_ascii=False) for e in SERVER]
    for frames in (single, ["\n".join(single)], [STREAM], ["\x1e".join(single)]):
        turn, out = run_frames(frames)  # type: ignore[arg-type]
        assert turn.result().text == TEXT
        assert kinds(out) == ["setOptions", "reportLocalConsents", "send", "pong"]


@settings(max_examples=200, deadline=None)
@given(points=cuts)
def test_any_byte_split_gives_the_same_answer(points: list[int]) -> None:
    turn, out = run_frames(chunked(STREAM, points))  # type: ignore[arg-type]
    assert turn.result().text == TEXT
    assert kinds(out) == ["setOptions", "reportLocalConsents", "send", "pong"]


@settings(max_examples=150, deadline=None)
@given(
    pings=st.lists(st.integers(min_value=0, max_value=len(ANSWER) - 1), max_size=4),
    second_connected=st.integers(min_value=0, max_value=len(ANSWER) - 1),
    challenge_at=st.one_of(st.none(), st.integers(min_value=0, max_value=1)),
    method=st.sampled_from(["", "hashcash"]),
)
def test_order_variants_give_the_same_answer(
    pings: list[int], second_connected: int, challenge_at: int | None, method: str
) -> None:
    """Pings and a second ``connected`` anywhere; a challenge before or after ``received``:
    the answer is the same, every ping gets a pong, and the prompt is re-sent only when the
    challenge came before ``received``."""
    events: list[dict] = list(ANSWER)
    events.insert(second_connected, {"event": "connected"})
    for at in sorted(pings, reverse=True):
        events.insert(at, {"event": "ping"})
    if challenge_at is not None:
        position = events.index(ANSWER[0]) + challenge_at  # before or after "received"
        events.insert(
            position,
            {
                "event": "challenge",
                "method": method,
                "parameter": "pre",
                "difficulty": 6,
                "id": "x",
            },
        )
    turn, out = play([{"event": "connected"}, *events])
    assert turn.result().text == TEXT
    assert kinds(out).count("pong") == len(pings)
    sends = kinds(out).count("send")
    assert sends == (2 if challenge_at == 0 else 1)


def test_splitter_rejects_garbage() -> None:
    with pytest.raises(CopilotSocketBroken):
        EventSplitter().feed("not json")
    with pytest.raises(CopilotSocketBroken):
        EventSplitter().feed('{"a": tru}')
    with pytest.raises(CopilotSocketBroken):
        EventSplitter().feed(b"\xff\xfe{")


def test_on_text_hears_the_parts_joined_so_far() -> None:
    heard: list[str] = []
    turn = CopilotTurn("c1", "Hello", on_text=heard.append)
    play([{"event": "connected"}, *ANSWER], turn)
    assert heard[0] == "Grüße 🌍 "
    assert heard[-1] == TEXT == turn.result().text
    assert len(heard) == 4  # one report per text event
