"""What becomes of an attachment's file after the save: record_download writes each outcome on
the rows, and stored_copy finds a file already in the store under one of its pointers."""

from __future__ import annotations

from typing import Any

import pytest

from archiver.flatten.nodetree import Node, NodeChat, flatten_nodes
from archiver.flatten.records import MESSAGE_COLUMNS
from archiver.store import open_db
from archiver.store.edits import record_download, stored_copy
from archiver.store.save import save_conversation

TREE = ("conversation_id", "id", "parent_id", "children", "position", "depth", "on_current_branch")
COLUMNS = {c: None for c in MESSAGE_COLUMNS if c not in TREE} | {"role": "user", "is_hidden": 0}


def attachment(pointer: str) -> dict[str, Any]:
    return {
        "conversation_id": "c1",
        "message_node_id": "n1",
        "asset_pointer": pointer,
        "file_name": None,
        "mime_type": None,
        "size_bytes": None,
    }


@pytest.fixture
def db(tmp_path: Any) -> Any:
    db = open_db(tmp_path / "archive.db")
    chat = NodeChat(
        id="c1",
        provider="test",
        nodes=[Node("n1", None, 1.0, COLUMNS)],
        title="t",
        create_time=None,
        update_time=None,
        stored={},
        flattener_version=1,
        attachments=[attachment("file-service://file-A"), attachment("file-B")],
    )
    save_conversation(db, flatten_nodes(chat))
    return db


def test_a_stored_file_is_found_under_any_of_its_spellings_in_order(db: Any) -> None:
    record_download(
        db, [("c1", "n1", "file-service://file-A")], "stored", sha256="aa", size=3, now="x"
    )
    record_download(db, [("c1", "n1", "file-B")], "failed", error="500", now="x")
    assert stored_copy(db, ["file-A", "file-service://file-A"]) == ("aa", 3)
    assert stored_copy(db, ["file-B", "file-service://file-B"]) is None  # failed: not stored
    assert stored_copy(db, []) is None
