"""Claude's flattener, artifacts and renderer on the odd shapes (pure): broken trees, a missing
current leaf, repeated files, blank-named pastes, artifacts on two branches, how each block
shows."""

from __future__ import annotations

import json

import pytest

from archiver.providers.claude.artifacts import artifact_versions
from archiver.providers.claude.flatten import ClaudeFlattenError, flatten_linear, flatten_tree
from archiver.providers.claude.render import claude_blocks
from archiver.query.blocks import Code, Image, Note, Output, Quote, Text, Thinking
from tests.providers.claude import account as acc


def conv(messages: list[dict], leaf: str | None = None) -> dict:
    return acc.conversation(
        "c-1", "T", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", messages, leaf
    )


def m(uuid: str, sender: str, parent: str, minute: int, *blocks: dict, **extra: object) -> dict:
    return acc.message(
        uuid, sender, parent, f"2026-01-01T00:{minute:02d}:00Z", list(blocks), **extra
    )


def test_a_broken_tree_keeps_every_message() -> None:
    messages = [
        m("h1", "human", acc.ROOT, 0, acc.text("hi")),
        m("a1", "assistant", "h1", 1, acc.text("hello")),
        m("orphan", "assistant", "missing-parent", 2, acc.text("lost")),
        m("a1", "assistant", "h1", 3, acc.text("same uuid again")),
    ]
    flat = flatten_tree(conv(messages, leaf="nowhere"))
    rows = {r["id"]: r for r in flat.messages}
    assert set(rows) == {"h1", "a1", "orphan", "a1~2"}
    assert rows["h1"]["parent_id"] is None and rows["h1"]["depth"] == 0
    assert rows["orphan"]["parent_id"] == "missing-parent"  # upstream's word, kept
    assert rows["orphan"]["depth"] == 0  # but it sits as a root
    # No current leaf in the tree: the newest leaf's branch.
    assert flat.conversation["current_node"] == "a1~2"
    assert {k for k, r in rows.items() if r["on_current_branch"]} == {"h1", "a1~2"}


def test_columns_of_odd_messages() -> None:
    tool_only = m(
        "a", "assistant", acc.ROOT, 0, {"type": "tool_use", "id": "t", "name": "repl", "input": {}}
    )
    row = flatten_tree(conv([tool_only])).messages[0]
    assert (row["text"], row["content_type"]) == (None, "tool_use")
    with pytest.raises(ClaudeFlattenError):
        flatten_tree(["not", "a", "conversation"])
    with pytest.raises(ClaudeFlattenError):
        flatten_linear({"name": "no uuid", "chat_messages": []})


def test_files_once_per_uuid_and_pastes_by_place() -> None:
    image = acc.image_file(acc.IMAGE, "a.png")
    message = m(
        "h",
        "human",
        acc.ROOT,
        0,
        acc.text("look"),
        attachments=[
            {"file_name": "", "extracted_content": "one"},
            {"file_name": "", "extracted_content": "two"},
            {
                "file_name": "notes.txt",
                "file_size": 5,
                "file_type": "text/plain",
                "extracted_content": "three",
            },
        ],
        files=[image, {"file_name": "old.png"}],
        files_v2=[image],
    )
    pointers = [
        (a["asset_pointer"], a["file_name"]) for a in flatten_tree(conv([message])).attachments
    ]
    assert pointers == [
        ("pasted:0", None),
        ("pasted:1", None),
        ("pasted:2", "notes.txt"),
        (acc.IMAGE, "a.png"),
        ("export-file:0", "old.png"),
    ]


def artifact(ident: str, command: str, **fields: object) -> dict:
    return {
        "type": "tool_use",
        "id": f"t-{command}",
        "name": "artifacts",
        "input": {"id": ident, "command": command, **fields},
    }


def test_artifact_versions_follow_their_branch() -> None:
    messages = [
        m("h1", "human", acc.ROOT, 0, acc.text("make it")),
        m("a1", "assistant", "h1", 1, artifact("x", "create", title="X", content="A\nB\n")),
        m("h2", "human", "a1", 2, acc.text("change B")),
        m("a2", "assistant", "h2", 3, artifact("x", "update", old_str="B", new_str="C")),
        # An edited prompt under a1: its update applies to version 1, not to version 2.
        m("h2e", "human", "a1", 4, acc.text("change A")),
        m("a2e", "assistant", "h2e", 5, artifact("x", "update", old_str="A", new_str="Z")),
        m("h3", "human", "a2e", 6, acc.text("again")),
        m(
            "a3",
            "assistant",
            "h3",
            7,
            artifact("x", "update", old_str="nope", new_str="?"),
            {
                "type": "tool_use",
                "name": "create_file",
                "input": {"path": "/out/n.md", "file_text": "notes"},
            },
            {
                "type": "tool_use",
                "name": "str_replace",
                "input": {"path": "/out/n.md", "old_str": "notes", "new_str": "more notes"},
            },
        ),
    ]
    versions = artifact_versions("c-1", messages)
    found = [(v["artifact_id"], v["version"], v["content"], v["applied"]) for v in versions]
    assert found == [
        ("x", 1, "A\nB\n", True),
        ("x", 2, "A\nC\n", True),
        ("x", 3, "Z\nB\n", True),
        ("x", 4, "Z\nB\n", False),  # an update that does not apply keeps the content
        ("/out/n.md", 1, "notes", True),
        ("/out/n.md", 2, "more notes", True),
    ]
    assert {v["id"] for v in versions} == {"claude:c-1:x", "claude:c-1:/out/n.md"}
    assert versions[1]["title"] == "X"  # an update keeps the title it had


def test_how_blocks_show() -> None:
    detail = acc.conversations()[acc.LISBON]
    a1 = next(x for x in detail["chat_messages"] if x["uuid"] == acc.L_A1)
    blocks = claude_blocks(a1, {"text": acc.LISBON_TEXTS[acc.L_A1]}, {})
    kinds = [type(b) for b in blocks]
    assert kinds[:6] == [Thinking, Note, Code, Output, Text, Text]
    assert blocks[0] == Thinking(acc.LISBON_THINKING)
    assert isinstance(blocks[2], Code)
    assert json.loads(blocks[2].text) == {"query": "Lisbon events this weekend"}
    assert blocks[3] == Output("Fado night in Alfama on Friday", "Tool result: web_search")
    assert blocks[-1].items == (("Fado in Alfama", "https://example.org/fado"),)  # type: ignore[union-attr]
    h1 = next(x for x in detail["chat_messages"] if x["uuid"] == acc.L_H1)
    stored = {"pasted:1": "files/ab/abc", acc.IMAGE: "files/cd/cde"}
    shown = claude_blocks(h1, {"text": "Plan a weekend in Lisbon"}, stored)
    assert shown[1:] == [
        Quote(acc.LISBON_PASTED[0], "pasted text", ""),
        Quote(acc.LISBON_PASTED[1], "pasted text", "files/ab/abc"),
        Image("files/cd/cde", "image"),
    ]
    hidden = {"content": [{"type": "thinking", "thinking": "", "summaries": [{"summary": "S"}]}]}
    assert claude_blocks(hidden, {}, {}) == [Thinking("S")]
    old = {"text": "Hello there"}  # no content: the flat text is all there is
    assert claude_blocks(old, {"text": "Hello there"}, {}) == [Text("Hello there")]


@pytest.mark.parametrize(
    ("pasted", "sent"),
    [
        ("sk-ant-sid01-abc", "sessionKey=sk-ant-sid01-abc"),
        ("sk-ant-sid01-abc==", "sessionKey=sk-ant-sid01-abc=="),
        ("  sk-ant-sid01-abc \n", "sessionKey=sk-ant-sid01-abc"),
        (
            "sessionKey=sk-ant-sid01-abc; lastActiveOrg=o",
            "sessionKey=sk-ant-sid01-abc; lastActiveOrg=o",
        ),
        ("Cookie: a=b; sessionKey=sk-ant-sid01-abc", "a=b; sessionKey=sk-ant-sid01-abc"),
    ],
)
def test_the_session_key_in_either_form(pasted: str, sent: str) -> None:
    from archiver.providers.claude.client import cookie_header

    assert cookie_header(pasted) == sent
