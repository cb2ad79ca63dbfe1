"""Reading export JSON for the formats that import through flat_import: the items of an array
that is a member of a top-level object (Grok's ``{"conversations": [...]}``), a file's items
ending in a Problem where it stops, a small file read whole, and the cheap first look that
detection takes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from archiver.importer.files import FileEntry
from archiver.importer.flat_import import Problem
from archiver.importer.jsonarray import JSONArrayError, iter_raw_member_items
from archiver.importer.jsonitems import Shape, array_items, entries_of_shape, other_json, whole_json
from archiver.importer.source import NOT_AN_ARRAY, ExportFiles, first_array_item

DOC: dict[str, Any] = {
    "before": {"nested": ["]", "}", {"k": '"quoted" }'}]},
    "conversations": [{"id": 1}, ["x", "]"], "a string, with a comma"],
    "after": [],
    "last": 3.5,
}


def member_items(data: bytes, read_size: int, others: dict | None = None) -> list:
    read = io.BytesIO(data).read
    return [json.loads(r) for r in iter_raw_member_items(read, "conversations", others, read_size)]


@pytest.mark.parametrize("read_size", [1, 2, 5, 64, 1 << 20])
def test_member_items_survive_any_chunking(read_size: int) -> None:
    for indent in (None, 2):
        data = json.dumps(DOC, indent=indent).encode()
        others: dict[str, bytes] = {}
        assert member_items(data, read_size, others) == DOC["conversations"]
        assert {k: json.loads(v) for k, v in others.items()} == {
            k: v for k, v in DOC.items() if k != "conversations"
        }


def test_member_items_stop_at_a_cut_after_every_complete_item() -> None:
    data = json.dumps(DOC).encode()
    start = data.index(b'"conversations"')
    first_done = data.index(b"}", start) + 1
    for cut in range(start, data.index(b'"after"')):
        got: list = []
        with pytest.raises(JSONArrayError):
            for raw in iter_raw_member_items(io.BytesIO(data[:cut]).read, "conversations", None, 3):
                got.append(json.loads(raw))
        assert got == DOC["conversations"][: len(got)]
        if cut > first_done + 1:
            assert got, cut


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"[1, 2]", "expected '{' at byte 0"),
        (b'{"other": []}', "the object has no 'conversations' member"),
        (b'{"conversations": {}}', "'conversations' is not an array"),
        (b'{"conversations": [] "x": 1}', "expected ',' or '}'"),
        (b"{conversations: []}", "expected a member name"),
    ],
)
def test_member_items_name_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(JSONArrayError, match=message):
        list(iter_raw_member_items(io.BytesIO(data).read, "conversations"))


def entry(name: str, data: bytes) -> FileEntry:
    return FileEntry(name, len(data), False, lambda: io.BytesIO(data))


def test_array_items_end_in_a_problem_naming_the_file_and_the_item() -> None:
    data = b"\xef\xbb\xbf" + json.dumps([{"n": 1}, {"n": 2}, {"n": 3}]).encode()
    got = list(array_items(entry("x/conversations.json", data[:-8]), what="conversation"))
    assert got[:2] == [(1, {"n": 1}), (2, {"n": 2})]
    (problem,) = got[2:]
    assert isinstance(problem, Problem) and problem.where == "x/conversations.json"
    assert problem.reason.startswith("invalid or truncated JSON in conversation #3 (")
    assert "the 2 conversation(s) before it are read" in problem.reason


def test_array_items_of_a_member_and_an_unreadable_item() -> None:
    data = b'{"conversations": [{"n": 1}, "\\ud800\xff"], "tasks": []}'
    others: dict[str, bytes] = {}
    got = list(array_items(entry("g.json", data), member="conversations", others=others))
    assert got[0] == (1, {"n": 1})
    assert isinstance(got[1], Problem) and got[1].where == "g.json entry #2"
    assert others == {"tasks": b"[]"}


def test_whole_json_reads_small_files_and_names_bad_ones() -> None:
    assert whole_json(entry("a.json", b'[{"a": 1}]'), 100) == [{"a": 1}]
    for data, reason in (
        (b'[{"a": 1}', "invalid or truncated JSON"),
        (b"x" * 101, "101 bytes is over the limit of 100"),
    ):
        problem = whole_json(entry("a.json", data), 100)
        assert isinstance(problem, Problem) and reason in problem.reason


def test_the_first_item_is_read_past_a_byte_order_mark_and_within_the_cap() -> None:
    data = b"\xef\xbb\xbf" + b'[{"n": 1}, {"n": 2}]'
    files = ExportFiles(path=Path("x.json"), kind="file", entries=[entry("x.json", data)])
    assert first_array_item(files, files.entries[0]) == {"n": 1}
    # The cap counts the mark's 3 bytes: the first item ends at byte 12.
    assert first_array_item(files, files.entries[0], max_bytes=11) is NOT_AN_ARRAY
    assert first_array_item(files, files.entries[0], max_bytes=12) == {"n": 1}


def test_entries_of_shape_read_heads_first_items_and_vouching_markers() -> None:
    files = ExportFiles(
        path=Path("x.zip"),
        kind="zip",
        entries=[
            entry("b/list.json", b'[{"chatId": "c", "role": "user"}]'),
            entry("a/other.json", b'[{"chatId": 7, "role": "user"}]'),  # looks_like says no
            entry("a/empty.json", b"[ ]  "),
            entry("a/cut.json", b'[{"chatId": "c", "role": '),  # vouched for by its markers
            entry("a/cut-bare.json", b'[{"chatId": "c", '),  # not vouched for
            entry("a/object.json", b'{"chatId": 1}'),  # the wrong opening
            entry("a/data.bin", b'[{"chatId": "c"}]'),  # not a JSON file of an export
        ],
    )
    shape = Shape(
        opening=b"[",
        markers=(b'"chatId"',),
        looks_like=lambda item: isinstance(item.get("chatId"), str),
        fallback=(b'"role"',),
    )
    found = entries_of_shape(files, shape)
    assert [e.name for e in found] == ["a/cut.json", "b/list.json"]
    assert [e.name for e in other_json(files, found)] == [
        "a/cut-bare.json",
        "a/empty.json",
        "a/object.json",
        "a/other.json",
    ]
    empty_ok = Shape(b"[", (), lambda item: False, empty=(b"[ ]",))
    assert [e.name for e in entries_of_shape(files, empty_ok)] == ["a/empty.json"]
