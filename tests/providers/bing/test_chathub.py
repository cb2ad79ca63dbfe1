from __future__ import annotations

import json

import pytest

from archiver.errors import AuthError, QuotaExhausted, TransientError
from archiver.providers.bing.chathub import (
    HANDSHAKE,
    PING,
    RS,
    ChatHubBroken,
    ChatHubTurn,
    RecordSplitter,
    SessionExpired,
    chathub_url,
    encode_record,
    invocation_request,
)

THROTTLING = {"maxNumUserMessagesInConversation": 30, "numUserMessagesInConversation": 1}
USER = {"author": "user", "text": "Bonjour ?", "messageId": "u1"}
BOT = {"author": "bot", "text": "Salut ! ça va ? 👋", "messageId": "b1", "contentOrigin": "DeepLeo"}
SEARCH = {"author": "bot", "text": "Searching: ça", "messageType": "InternalSearchQuery"}
ITEM = {
    "messages": [USER, SEARCH, BOT],
    "firstNewMessageIndex": 0,
    "conversationId": "51D|BingProd|X",
    "throttling": THROTTLING,
    "result": {"value": "Success"},
}
SERVER_RECORDS = [
    {},
    {"type": 6},
    {"type": 1, "target": "update", "arguments": [{"throttling": THROTTLING}]},
    {"type": 1, "target": "update", "arguments": [{"messages": [SEARCH]}]},
    {"type": 1, "target": "update", "arguments": [{"messages": [{**BOT, "text": "Salut"}]}]},
    {"type": 1, "target": "update", "arguments": [{"messages": [BOT]}]},
    {"type": 2, "invocationId": "0", "item": ITEM},
    {"type": 3, "invocationId": "0"},
]
# Several records per frame, as the server sends them.
STREAM = "".join(encode_record(r) for r in SERVER_RECORDS).encode("utf-8")


def request() -> dict:
    return invocation_request(
        "Bonjour ?",
        conversation_id="51D|BingProd|X",
        client_id="c1",
        signature="sig",
        invocation_id=0,
    )


def play(frames: list[bytes | str]) -> tuple[ChatHubTurn, list[str]]:
    turn = ChatHubTurn(request())
    sent = turn.start()
    splitter = RecordSplitter()
    for frame in frames:
        for record in splitter.feed(frame):
            sent.extend(turn.receive(record))
    return turn, sent


def test_one_frame_with_every_record() -> None:
    turn, sent = play([STREAM])
    outcome = turn.result()
    assert turn.finished
    assert outcome.text == BOT["text"]
    assert outcome.message_id == "b1"
    assert outcome.conversation_id == "51D|BingProd|X"
    assert outcome.throttling == THROTTLING
    assert sent[0] == HANDSHAKE
    assert sent[1] == PING  # after the handshake answer
    invocation = json.loads(sent[2].rstrip(RS))
    assert invocation["type"] == 4 and invocation["invocationId"] == "0"
    assert invocation["arguments"][0]["isStartOfSession"] is True
    assert sent[3] == PING  # the answer to the server's keep-alive


def test_split_at_every_byte_gives_the_same_result() -> None:
    whole, whole_sent = play([STREAM])
    for cut in range(len(STREAM) + 1):
        turn, sent = play([STREAM[:cut], STREAM[cut:]])
        assert turn.result().text == whole.result().text, cut
        assert len(sent) == len(whole_sent)


def test_byte_by_byte_and_text_frames() -> None:
    turn, _ = play([STREAM[i : i + 1] for i in range(len(STREAM))])
    assert turn.result().text == BOT["text"]
    text = STREAM.decode()
    turn, _ = play([text[i : i + 5] for i in range(0, len(text), 5)])
    assert turn.result().text == BOT["text"]


def test_later_turns_are_not_start_of_session() -> None:
    later = invocation_request(
        "x", conversation_id="c", client_id="i", signature=None, invocation_id=3
    )
    assert later["invocationId"] == "3"
    assert later["arguments"][0]["isStartOfSession"] is False
    assert "conversationSignature" not in later["arguments"][0]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("Throttled", QuotaExhausted),
        ("CaptchaChallenge", QuotaExhausted),
        ("UnauthorizedRequest", AuthError),
        ("InvalidSession", SessionExpired),
        ("ProcessingMessage", TransientError),
    ],
)
def test_result_values_map_to_errors(value: str, error: type) -> None:
    records = [{}, {"type": 2, "item": {"result": {"value": value, "message": "no"}}}]
    stream = "".join(encode_record(r) for r in records)
    with pytest.raises(error):
        play([stream])


def test_socket_closed_before_the_final_item_is_broken() -> None:
    cut = STREAM.index(b'{"type": 2')
    turn, _ = play([STREAM[:cut]])
    with pytest.raises(ChatHubBroken):
        turn.result()
    with pytest.raises(ChatHubBroken):
        play(
            [
                encode_record({})
                + encode_record({"type": 7, "error": "Connection closed with an error."})
            ]
        )


def test_chathub_url() -> None:
    assert chathub_url("https://sydney.bing.com") == "wss://sydney.bing.com/sydney/ChatHub"
    assert (
        chathub_url("http://127.0.0.1:9/", "a+b/c=")
        == "ws://127.0.0.1:9/sydney/ChatHub?sec_access_token=a%2Bb%2Fc%3D"
    )


def test_on_text_hears_the_reply_so_far_not_the_search_queries() -> None:
    heard: list[str] = []
    turn = ChatHubTurn(request(), heard.append)
    splitter = RecordSplitter()
    for record in splitter.feed(STREAM):
        turn.receive(record)
    assert heard == ["Salut", BOT["text"]]
    assert turn.result().text == BOT["text"]
