"""The three MCP tools' answers, called the way the server calls them (``call_tool``), on the
shared sample archive: two ChatGPT conversations (one with edits and regenerations) and a Bing
chat. Bad input is a tool error with a message, never an exception."""

from __future__ import annotations

import sqlite3

import pytest
from mcp.types import TextContent

from archiver.mcp import tools
from archiver.mcp.server import call_tool
from archiver.query.connect import open_readonly
from tests.support.sample_archive import BING_ID, BRANCHED_ID, CONTENT_ID


@pytest.fixture
def ro(archive_path):
    conn = open_readonly(archive_path)
    yield conn
    conn.close()


def ok(conn, name, **arguments):
    result = call_tool(conn, name, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


def refused(conn, name, **arguments) -> str:
    result = call_tool(conn, name, arguments)
    assert result.is_error and result.structured_content is None
    text = result.content[0]
    assert isinstance(text, TextContent)
    return text.text


def test_search_finds_messages_with_their_conversation(ro):
    found = ok(ro, "search", query="regenerated")
    (hit,) = found["hits"]
    assert hit == {
        "conversation_id": BRANCHED_ID,
        "title": "Edits and regenerations",
        "provider": "chatgpt",
        "message_id": "n-a1b",
        "role": "assistant",
        "create_time": hit["create_time"],
        "snippet": hit["snippet"],
    }
    assert hit["create_time"].startswith("2023-12-06T")
    assert "**regenerated**" in hit["snippet"]
    assert found["limit_reached"] is False


def test_search_filters_and_limit(ro):
    assert {h["provider"] for h in ok(ro, "search", query="tower")["hits"]} == {"bing"}
    assert ok(ro, "search", query="tower", provider="chatgpt")["hits"] == []
    assert {h["role"] for h in ok(ro, "search", query="tree", role="user")["hits"]} == {"user"}
    two = ok(ro, "search", query="tree", limit=2)
    assert len(two["hits"]) == 2 and two["limit_reached"] is True
    # The Bing chat's messages are dated 2024-02-01 .. 2024-02-04, one a day.
    hits = ok(ro, "search", query="tower OR antennas", since="2024-02-02", until="2024-02-02")
    assert [h["message_id"] for h in hits["hits"]] == ["b1"]  # until: the end of that day
    assert ok(ro, "search", query="tree", since="2024")["hits"] == []
    assert ok(ro, "search", query="tree", until="2023-11")["hits"] == []
    assert len(ok(ro, "search", query="tree", until="2023-12")["hits"]) == 3  # to December's end


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": "B-tree?"}, 'Words with punctuation need double quotes, as in "B-tree?"'),
        ({"query": '"unclosed'}, "check that every double quote is closed"),
        ({"query": "  "}, "'query' must not be empty"),
        ({}, "search needs 'query'"),
        ({"query": 7}, "'query' must be a string"),
        ({"query": "tree", "limit": 0}, "'limit' must be at least 1 and at most 200, not 0"),
        ({"query": "tree", "limit": 201}, "at most 200"),
        ({"query": "tree", "limit": "ten"}, "'limit' must be an integer"),
        ({"query": "tree", "limit": True}, "'limit' must be an integer"),
        ({"query": "tree", "role": "bot"}, "'role' must be one of user, assistant, tool, system"),
        ({"query": "tree", "since": "last week"}, "cannot read 'since' 'last week'"),
        ({"query": "tree", "since": "2025", "until": "2024"}, "must come before 'until'"),
        ({"query": "tree", "max": 3}, "search takes no argument 'max'"),
    ],
)
def test_search_bad_input_is_a_tool_error(ro, arguments, message):
    assert message in refused(ro, "search", **arguments)


def test_a_whole_number_limit_sent_as_a_float_is_fine(ro):
    assert len(ok(ro, "search", query="tree", limit=2.0)["hits"]) == 2


def test_get_conversation_current_branch_only_in_order(ro):
    got = ok(ro, "get_conversation", id=BRANCHED_ID)
    assert got["conversation"]["title"] == "Edits and regenerations"
    assert got["conversation"]["model"] == "gpt-4o"
    assert got["branch"] == "current"
    texts = [m["text"] for m in got["messages"]]
    assert texts == ["What is a B+ tree? (edited)", "Leaves hold all the keys, linked in order."]
    assert all(m["on_current_branch"] for m in got["messages"])
    first, second = got["messages"]
    assert second["parent_id"] == first["id"] and second["model"] == "gpt-4o"
    assert (got["total"], got["next_offset"], got["note"]) == (2, None, None)


def test_get_conversation_all_branches_shows_edits_and_regenerations(ro):
    got = ok(ro, "get_conversation", id=BRANCHED_ID, branch="all")
    by_id = {m["id"]: m for m in got["messages"]}
    assert set(by_id) == {"n-u1", "n-a1", "n-a1b", "n-u2", "n-a2"}
    assert [m["id"] for m in got["messages"] if m["on_current_branch"]] == ["n-u2", "n-a2"]
    assert by_id["n-a1b"]["parent_id"] == "n-u1" and "regenerated" in by_id["n-a1b"]["text"]
    # Each fork's alternatives one after the other, every answer after its prompt.
    order = [m["id"] for m in got["messages"]]
    assert order.index("n-u1") < order.index("n-a1") < order.index("n-a1b") < order.index("n-u2")


def test_bing_chats_are_linear(ro):
    got = ok(ro, "get_conversation", id=BING_ID, branch="all")
    assert [m["id"] for m in got["messages"]] == ["b0", "b1", "b2", "b3"]
    assert {m["role"] for m in got["messages"]} == {"user", "assistant"}


def test_long_conversations_are_paged(ro):
    full = ok(ro, "get_conversation", id=CONTENT_ID, branch="all")["messages"]
    assert len(full) > 3
    pages, offset = [], 0
    while offset is not None:
        page = ok(ro, "get_conversation", id=CONTENT_ID, branch="all", offset=offset, limit=2)
        assert len(page["messages"]) <= 2 and page["total"] == len(full)
        if page["next_offset"] is not None:
            assert f"offset={page['next_offset']}" in page["note"]
        pages += page["messages"]
        offset = page["next_offset"]
    assert pages == full
    past = ok(ro, "get_conversation", id=CONTENT_ID, offset=999)
    assert past["messages"] == [] and "past the last message" in past["note"]


def test_a_page_stops_at_its_text_budget_and_cuts_one_huge_message(ro, monkeypatch):
    monkeypatch.setattr(tools, "PAGE_CHARACTERS", 30)
    got = ok(ro, "get_conversation", id=BRANCHED_ID)
    first = got["messages"][0]
    assert len(got["messages"]) == 1 and got["next_offset"] == 1  # budget spent by the first
    monkeypatch.setattr(tools, "PAGE_CHARACTERS", 10)
    cut = ok(ro, "get_conversation", id=BRANCHED_ID)
    assert cut["messages"][0]["text"].startswith(first["text"][:10] + "\n[… ")
    assert "more characters not shown" in cut["messages"][0]["text"]
    assert "was cut" in cut["note"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"id": "no-such-id"}, "no conversation with id 'no-such-id'"),
        ({}, "get_conversation needs 'id'"),
        ({"id": BRANCHED_ID, "branch": "both"}, "'branch' must be one of current, all"),
        ({"id": BRANCHED_ID, "offset": -1}, "'offset' must be at least 0"),
        ({"id": BRANCHED_ID, "limit": 501}, "at most 500"),
    ],
)
def test_get_conversation_bad_input_is_a_tool_error(ro, arguments, message):
    assert message in refused(ro, "get_conversation", **arguments)


def test_list_conversations_newest_first_with_counts(ro, archive):
    listed = ok(ro, "list_conversations")
    ids = [c["id"] for c in listed["conversations"]]
    assert ids == [BING_ID, CONTENT_ID, BRANCHED_ID]
    assert (listed["total"], listed["next_offset"], listed["limit"]) == (3, None, 50)
    stats = dict(archive.execute("SELECT conversation_id, messages FROM conversation_stats"))
    for item in listed["conversations"]:
        assert item["message_count"] == stats[item["id"]]
        assert set(item) == {
            "id",
            "title",
            "provider",
            "create_time",
            "update_time",
            "message_count",
        }


def test_list_conversations_filters_and_pages(ro):
    assert [c["id"] for c in ok(ro, "list_conversations", provider="bing")["conversations"]] == [
        BING_ID
    ]
    assert [
        c["id"] for c in ok(ro, "list_conversations", title="REGENERATION")["conversations"]
    ] == [BRANCHED_ID]
    # Active in the period: the Bing chat ran from 2024-02-01 to 2024-02-04.
    assert [c["id"] for c in ok(ro, "list_conversations", since="2024-02-03")["conversations"]] == [
        BING_ID
    ]
    assert ok(ro, "list_conversations", until="2023-11")["conversations"] == []
    in_2023 = ok(ro, "list_conversations", since="2023", until="2023")["conversations"]
    assert [c["id"] for c in in_2023] == [CONTENT_ID, BRANCHED_ID]
    seen, offset = [], 0
    while offset is not None:
        page = ok(ro, "list_conversations", limit=1, offset=offset)
        seen += [c["id"] for c in page["conversations"]]
        offset = page["next_offset"]
    assert seen == [BING_ID, CONTENT_ID, BRANCHED_ID]
    assert "at most 500" in refused(ro, "list_conversations", limit=1000)
    assert "takes no argument 'query'" in refused(ro, "list_conversations", query="x")


def test_unknown_tool_and_unreadable_archive_are_tool_errors(ro):
    assert "no tool named 'delete'" in refused(ro, "delete")
    ro.close()
    assert "the archive could not be read" in refused(ro, "list_conversations")


def test_an_unexpected_failure_is_a_tool_error_too(ro, monkeypatch):
    def broken(db, raw):
        raise KeyError("bug")

    monkeypatch.setitem(tools.TOOLS, "search", broken)
    assert refused(ro, "search", query="x") == "search failed on an internal error of archiver"


def test_tools_read_while_a_backup_holds_the_write_lock(archive_path, ro):
    """What a backup does to the file: a write transaction open, rows not yet committed. The
    tools answer from the last commit, and the writer is never blocked by them."""
    writer = sqlite3.connect(archive_path, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE conversations SET title = 'Renamed mid-backup' WHERE id = ?", [BING_ID])
    listed = ok(ro, "list_conversations", provider="bing")["conversations"]
    assert listed[0]["title"] == "Eiffel tower"
    assert ok(ro, "search", query="tower")["hits"]
    writer.commit()  # not blocked by the reader
    assert ok(ro, "list_conversations", provider="bing")["conversations"][0]["title"] == (
        "Renamed mid-backup"
    )
    writer.close()
