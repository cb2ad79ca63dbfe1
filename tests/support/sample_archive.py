"""A small archive shared by the query and CLI tests: two ChatGPT fixtures and a Bing chat."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archiver.flatten.records import FLATTENER_VERSION, FlatConversation, content_hash
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store import open_db
from archiver.store.save import save_conversation
from tests.support.helpers import load_fixture

BRANCHED_ID = "c0ffee00-0000-4000-8000-000000000001"
CONTENT_ID = "c0ffee00-0000-4000-8000-000000000002"
BING_ID = "51D|BingProd|ABC<1>"


def bing_conversation() -> FlatConversation:
    """A Bing chat as a flattener would produce it: a flat, linear list of messages."""
    turns = [
        ("user", "How tall is the Eiffel tower?", None),
        ("bot", "About 330 metres including antennas.", "https://www.toureiffel.paris/en"),
        ("user", "And the <script>alert(1)</script> tag?", None),
        ("bot", "That is HTML, not a tower.", None),
    ]
    messages = []
    for index, (author, text, source) in enumerate(turns):
        raw: dict[str, Any] = {"text": text, "author": author, "messageId": f"b{index}"}
        if source:
            raw["sourceAttributions"] = [
                {"providerDisplayName": "Tour Eiffel", "seeMoreUrl": source}
            ]
        messages.append(
            {
                "conversation_id": BING_ID,
                "id": f"b{index}",
                "message_id": f"b{index}",
                "parent_id": None,
                "children": None,
                "position": 0,
                "depth": index,
                "on_current_branch": 1,
                "role": "user" if author == "user" else "assistant",
                "author_name": None,
                "recipient": None,
                "channel": None,
                "content_type": "text",
                "text": text,
                "model_slug": None,
                "status": None,
                "create_time": f"2024-02-0{index + 1}T10:00:00.000000Z",
                "is_hidden": 0,
                "raw_json": json.dumps(raw),
            }
        )
    conversation = {
        "id": BING_ID,
        "provider": "bing",
        "account": "",
        "title": "Eiffel tower",
        "create_time": "2024-02-01T10:00:00.000000Z",
        "update_time": "2024-02-04T10:00:00.000000Z",
        "list_update_time": None,
        "current_node": None,
        "is_archived": None,
        "default_model_slug": None,
        "gizmo_id": None,
        "node_count": len(messages),
        "source": "api",
        "content_hash": content_hash(turns),
        "flattener_version": FLATTENER_VERSION,
        "raw_json": json.dumps({"conversationId": BING_ID}),
    }
    # Stored in reverse so that only depth, not insertion order, can put them right.
    return FlatConversation(conversation, list(reversed(messages)))


@pytest.fixture
def archive_path(tmp_path):
    path = tmp_path / "archive.db"
    db = open_db(path)
    save_conversation(db, flatten_conversation(load_fixture("chatgpt/branches.json")))
    save_conversation(db, flatten_conversation(load_fixture("chatgpt/content_types.json")))
    save_conversation(db, bing_conversation())
    db.conn.close()
    return path


@pytest.fixture
def archive(archive_path):
    db = open_db(archive_path)
    yield db
    db.conn.close()
