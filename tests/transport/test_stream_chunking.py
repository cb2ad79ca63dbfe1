"""Property tests: the stream parsers give the same result however the bytes are chunked
(cuts inside UTF-8 characters, inside the \\x1e separator, inside CRLF, anywhere)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.providers.bing.chathub import RecordSplitter, encode_record
from tests.support.helpers import FIXTURES
from tests.support.streams import parse_answer_stream

CLASSIC = (FIXTURES / "chatgpt" / "stream_classic.txt").read_bytes()
V1 = (FIXTURES / "chatgpt" / "stream_v1.txt").read_bytes()
RECORDS = [
    {},
    {"type": 6},
    {"type": 1, "target": "update", "arguments": [{"messages": [{"text": "Grüße 🌍 \u001e?"}]}]},
    {"type": 2, "invocationId": "0", "item": {"messages": [], "result": {"value": "Success"}}},
    {"type": 3, "invocationId": "0"},
]
RECORD_BYTES = "".join(encode_record(r) for r in RECORDS).encode()


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


cuts = st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=40)


@settings(max_examples=150, deadline=None)
@given(cuts=cuts)
def test_answer_streams_are_chunking_independent(cuts):
    for body in (CLASSIC, V1):
        whole = parse_answer_stream([body])
        pieces = parse_answer_stream(chunked(body, cuts))
        assert (pieces.text, pieces.message_id, pieces.status, pieces.conversation_id) == (
            whole.text,
            whole.message_id,
            whole.status,
            whole.conversation_id,
        )


@settings(max_examples=150, deadline=None)
@given(cuts=cuts)
def test_chathub_records_are_chunking_independent(cuts):
    splitter = RecordSplitter()
    records = [r for chunk in chunked(RECORD_BYTES, cuts) for r in splitter.feed(chunk)]
    assert records == RECORDS
    assert json.dumps(records)  # every record came out whole and parsed
