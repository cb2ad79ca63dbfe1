from __future__ import annotations

import json

import pytest

from archiver.errors import InputError
from archiver.providers.chatgpt.export.reader import (
    iter_conversations,
    manifest_names,
    open_export,
    pick_conversation_files,
)
from tests.support.export_helpers import as_json, conversation, write_zip


def read_all(path):
    with open_export(path) as export:
        return export, list(iter_conversations(export))


def ids(items):
    return [item.conversation["id"] for item in items if item.error is None]


def test_zip_with_conversations_json(tmp_path):
    path = write_zip(tmp_path / "export.zip", [conversation("c1"), conversation("c2")])
    export, items = read_all(path)
    assert export.kind == "zip"
    assert ids(items) == ["c1", "c2"]
    assert [(i.source, i.number) for i in items] == [
        ("conversations.json", 1),
        ("conversations.json", 2),
    ]


def test_split_layout_in_order_and_manifest_checked(tmp_path):
    convs = [conversation(f"c{i}") for i in range(5)]
    path = write_zip(tmp_path / "export.zip", convs, split=2)
    export, items = read_all(path)
    assert [f.name for f in export.conversation_files] == [
        "conversations-000.json",
        "conversations-001.json",
        "conversations-002.json",
    ]
    assert ids(items) == ["c0", "c1", "c2", "c3", "c4"]
    assert export.problems == []


def test_manifest_listing_a_missing_file_is_a_problem(tmp_path):
    path = tmp_path / "export.zip"
    write_zip(path, files={"conversations-000.json": as_json([conversation("c0")])})
    import zipfile

    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(
            "export_manifest.json",
            json.dumps({"files": ["conversations-000.json", "conversations-001.json"]}),
        )
    export, items = read_all(path)
    assert ids(items) == ["c0"]
    assert export.problems == [
        "conversations-001.json: listed in export_manifest.json but not in the export"
    ]


def test_unpacked_folder(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "conversations-000.json").write_bytes(as_json([conversation("a")]))
    (folder / "conversations-001.json").write_bytes(as_json([conversation("b")]))
    (folder / "export_manifest.json").write_text("{}")
    export, items = read_all(folder)
    assert export.kind == "folder"
    assert ids(items) == ["a", "b"]


def test_bare_json_floats_stay_floats(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_bytes(
        b"\xef\xbb\xbf  " + as_json([conversation("x", update_time=1701830474.616844)])
    )
    export, items = read_all(path)
    assert export.kind == "json"
    conv = items[0].conversation
    assert type(conv["update_time"]) is float and conv["update_time"] == 1701830474.616844
    assert type(conv["mapping"]["x-u"]["message"]["weight"]) is float


def test_truncated_file_yields_what_came_before_then_an_error(tmp_path):
    data = as_json([conversation("c1"), conversation("c2"), conversation("c3")])
    path = tmp_path / "conversations.json"
    path.write_bytes(data[: len(data) - 200])
    _, items = read_all(path)
    assert ids(items) == ["c1", "c2"]
    error = items[-1].error
    assert error is not None and error.startswith("conversations.json: invalid or truncated JSON")
    assert "in conversation #3" in error and "the 2 conversation(s) before it" in error


def test_not_an_array_is_an_error_item(tmp_path):
    path = tmp_path / "export"
    path.mkdir()
    (path / "conversations.json").write_text('{"id": "x"}')
    _, items = read_all(path)
    assert [i.error for i in items] == ["conversations.json: not a JSON array of conversations"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("export.zip", b"hello, not a zip", "not a ChatGPT export"),
        ("notes.json", b'{"a": 1}', "not a ChatGPT export"),
        ("broken.zip", b"PK\x03\x04 truncated", "damaged or truncated"),
    ],
)
def test_not_an_export_raises_input_error(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=message), open_export(path):
        pass


def test_zip_without_conversations_raises(tmp_path):
    path = write_zip(tmp_path / "export.zip", files={"chat.html": b"<html>"})
    with pytest.raises(InputError, match=r"no conversations\.json"), open_export(path):
        pass


def test_pick_conversation_files_prefers_the_shallowest_folder():
    names = [
        "top/conversations-001.json",
        "top/conversations-000.json",
        "top/deeper/conversations.json",
        "__MACOSX/top/conversations.json",
        "top/chat.html",
    ]
    assert pick_conversation_files(names) == [
        "top/conversations-000.json",
        "top/conversations-001.json",
    ]


def test_manifest_names_found_anywhere():
    manifest = {"version": 2, "parts": [{"path": "conversations-000.json"}, {"x": "other.json"}]}
    assert manifest_names(manifest) == {"conversations-000.json"}
