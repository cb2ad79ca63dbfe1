from __future__ import annotations

import io
import json
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.importer.jsonarray import (
    JSONArrayError,
    TooLarge,
    iter_capped_items,
    iter_json_array,
    iter_raw_items,
)


def items(data: bytes, read_size: int = 5) -> list:
    return list(iter_json_array(io.BytesIO(data).read, read_size))


def items_until_error(data: bytes, read_size: int = 5) -> tuple[list, str | None]:
    got: list = []
    try:
        for item in iter_json_array(io.BytesIO(data).read, read_size):
            got.append(item)
    except JSONArrayError as exc:
        return got, str(exc)
    return got, None


TRICKY = [
    {"s": 'brackets ] } [ { and "quotes", commas, \\ backslashes'},
    {"u": "\u00e9t\u00e9 \u65e5\u672c \U0001f600", "esc": "\\u005d \n\t"},
    {"n": [12345678901234567890, -0.5e-3, 1.0, True, False, None]},
    [],
    {},
    "a string item",  # last: a cut number at the very end would still be a number
]


@pytest.mark.parametrize("read_size", [1, 2, 3, 7, 64, 1 << 20])
def test_items_survive_any_chunking(read_size):
    for indent in (None, 2):
        data = json.dumps(TRICKY, indent=indent, ensure_ascii=False).encode()
        assert items(data, read_size) == TRICKY


def test_whitespace_everywhere_and_empty_arrays():
    assert items(b" \n\t[ \r\n ] \n") == []
    assert items(b"[\n1 ,\n 2\t,3 ]") == [1, 2, 3]
    assert items(b"[123]", read_size=1) == [123]  # a number cut by every read boundary


def test_truncation_anywhere_yields_the_items_before_then_an_error():
    data = json.dumps(TRICKY, ensure_ascii=False).encode()
    complete = json.dumps(TRICKY[:1], ensure_ascii=False).encode()[:-1]
    for cut in range(len(data) - 1):
        got, error = items_until_error(data[:cut], read_size=4)
        assert error is not None, cut
        assert got == TRICKY[: len(got)]
        if cut >= len(complete) + 1:
            assert got, cut  # the first item was complete at this cut


def test_invalid_json_in_the_middle_names_the_position_without_reading_the_rest():
    good = json.dumps([{"a": 1}] * 3).encode()
    data = good[:-1] + b", {oops}, " + b'{"b": 2}, ' * 100_000 + b"]"
    reader = io.BytesIO(data)
    got = []
    with pytest.raises(JSONArrayError, match=r"at byte 3\d"):
        for item in iter_json_array(reader.read, 1024):
            got.append(item)
    assert got == [{"a": 1}] * 3
    assert reader.tell() < 10_000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  {}", "expected '\\['"),
        (b"[1 2]", "expected ',' or"),
        (b"[1,", "ends"),
        (b"[", "ends"),
        (b'["\xff"]', "invalid UTF-8"),
    ],
)
def test_not_an_array_or_broken(data, message):
    with pytest.raises(JSONArrayError, match=message):
        items(data)


def test_a_large_item_is_read_whole():
    big = {"text": "x" * 200_000, "list": list(range(5000))}
    assert items(json.dumps([1, big, 2]).encode(), read_size=1000) == [1, big, 2]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(
    value=st.lists(json_values, max_size=6),
    read_size=st.integers(1, 50),
    indent=st.sampled_from([None, 0, 1, 3]),
    ascii_only=st.booleans(),
)
def test_same_items_as_json_loads(value, read_size, indent, ascii_only):
    data = json.dumps(value, indent=indent, ensure_ascii=ascii_only).encode(
        "utf-8", "surrogatepass"
    )
    assert items(data, read_size) == json.loads(data)


DEEP = b'{"id": "deep", "v": ' + b"[" * 1000 + b'"a ] } \\" ["' + b"]" * 1000 + b"}"


@pytest.mark.parametrize("read_size", [7, 64, 1 << 20])
def test_an_item_nested_too_deeply_to_parse_is_cut_by_its_brackets(read_size):
    """Issue 27: both parsers recurse; a thousand levels raised RecursionError and stopped the
    file. The item is cut whole (its parser refuses it later) and the items after it follow."""
    data = b'[{"id": "a"}, ' + DEEP + b', {"id": "b", "s": "]"}]'
    items = list(iter_raw_items(io.BytesIO(data).read, read_size))
    assert items == [b'{"id": "a"}', DEEP, b'{"id": "b", "s": "]"}']


def test_an_item_nested_too_deeply_and_cut_short_is_an_error():
    data = b'[{"id": "a"}, ' + DEEP[:-10]
    items = iter_raw_items(io.BytesIO(data).read, 64)
    assert next(items) == b'{"id": "a"}'
    with pytest.raises(JSONArrayError, match=r"ends at byte \d+ in the middle of an item"):
        next(items)


def test_an_item_over_max_item_is_read_past_and_stands_as_too_large():
    """Issue 27 (a zip bomb): an item over the cap is refused, the items after it are read."""
    big = b'{"id": "big", "m": {"t": "' + b'x\\"y' * 1000 + b'", "l": [1, {"a": "]"}]}}'
    data = b'[{"id": "a"}, ' + big + b', {"id": "b"}, "' + b"s" * 3000 + b'", {"id": "c"}]'
    for read_size in (7, 64, 1000, 1 << 20):
        items = list(iter_capped_items(io.BytesIO(data).read, 500, read_size))
        assert items == [
            b'{"id": "a"}',
            TooLarge(len(big)),
            b'{"id": "b"}',
            TooLarge(3002),
            b'{"id": "c"}',
        ], read_size


def test_memory_stays_flat_past_an_item_of_any_size():
    """A 64 MB string inside one item, as a small zip inflates it: never held whole."""
    chunk = b"x" * (1 << 20)
    pieces = iter([b'[{"id": "a"}, {"m": "', *([chunk] * 64), b'"}, {"id": "b"}]'])
    pending = b""

    def read(size: int) -> bytes:
        nonlocal pending
        while len(pending) < size:
            piece = next(pieces, None)
            if piece is None:
                break
            pending += piece
        out, pending = pending[:size], pending[size:]
        return out

    tracemalloc.start()
    try:
        items = list(iter_capped_items(read, 4 << 20, 1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert items == [b'{"id": "a"}', TooLarge(len(b'{"m": ""}') + 64 * (1 << 20)), b'{"id": "b"}']
    assert peak < 24 << 20, peak  # the cap and a few reads, not the 64 MB item
