from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from archiver.transport.sse import SSEEvent, SSEParser


def parse(chunks: list[bytes]) -> list[SSEEvent]:
    parser = SSEParser()
    events = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events


BODY = (
    b'event: delta\r\ndata: {"v": "caf\xc3\xa9"}\r\n\r\n'
    b": comment\n"
    b"data: line one\ndata:line two\nid: 7\nretry: 300\n\n"
    b"data: cr only\r\r"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent('{"v": "café"}', "delta"),
    SSEEvent("line one\nline two", "message", "7", 300),
    SSEEvent("cr only", "message", "7", 300),
    SSEEvent("[DONE]", "message", "7", 300),
]


def test_whole_body() -> None:
    assert parse([BODY]) == EXPECTED


def test_every_two_way_split_gives_the_same_events() -> None:
    for cut in range(len(BODY) + 1):
        assert parse([BODY[:cut], BODY[cut:]]) == EXPECTED, cut


def test_byte_by_byte() -> None:
    assert parse([BODY[i : i + 1] for i in range(len(BODY))]) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=12))
def test_any_chunking(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(BODY)]
    assert parse([BODY[a:b] for a, b in itertools.pairwise(points)]) == EXPECTED


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    assert parse([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [SSEEvent("a\nb")]


def test_very_long_line_in_many_chunks() -> None:
    payload = "x" * 3_000_000
    raw = f"data: {payload}\n\n".encode()
    chunks = [raw[i : i + 4096] for i in range(0, len(raw), 4096)]
    assert parse(chunks) == [SSEEvent(payload)]


def test_last_event_without_blank_line_is_kept_on_close() -> None:
    assert parse([b"data: [DONE]"]) == [SSEEvent("[DONE]")]


def test_event_name_without_data_is_not_dispatched() -> None:
    assert parse([b"event: ping\n\ndata: x\n\n"]) == [SSEEvent("x")]
