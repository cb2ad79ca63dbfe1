"""The official ``mcp`` client drives the archive's MCP server the way Claude Desktop, Cursor
and other clients do: over stdio (``archiver mcp DB`` as a subprocess) and over streamable HTTP
(``/mcp`` of ``archiver serve``, with an API key), in both protocol eras the package speaks
(``auto`` negotiates 2026-07-28; ``legacy`` is the 2025 initialize handshake)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from archiver.providers import registry
from archiver.serve.keys import add_key
from archiver.store import open_db
from tests.support.gateway import http, running_gateway
from tests.support.sample_archive import BING_ID, BRANCHED_ID, CONTENT_ID

MODES = ("auto", "legacy")


async def exercise(client: Client) -> None:
    """Everything the issue's "done when" asks of a client, on the sample archive."""
    listed = await client.list_tools()
    by_name = {tool.name: tool for tool in listed.tools}
    assert list(by_name) == ["search", "get_conversation", "list_conversations"]
    for tool in listed.tools:
        assert tool.description and "Use" in tool.description
        assert tool.output_schema and tool.annotations and tool.annotations.read_only_hint
    assert by_name["search"].input_schema["required"] == ["query"]
    # The provider names come from the registry, not from the engine.
    provider = by_name["list_conversations"].input_schema["properties"]["provider"]
    assert provider["description"] == f"Only this provider's: {', '.join(registry.names())}."

    # A word from one message finds its conversation.
    found = await client.call_tool("search", {"query": "antennas"})
    assert not found.is_error
    (hit,) = found.structured_content["hits"]
    assert (hit["conversation_id"], hit["message_id"]) == (BING_ID, "b1")

    # Its current branch has no message of another branch; all branches have them.
    current = await client.call_tool("get_conversation", {"id": BRANCHED_ID})
    texts = [m["text"] for m in current.structured_content["messages"]]
    assert texts == ["What is a B+ tree? (edited)", "Leaves hold all the keys, linked in order."]
    every = await client.call_tool("get_conversation", {"id": BRANCHED_ID, "branch": "all"})
    messages = every.structured_content["messages"]
    assert {m["id"] for m in messages} == {"n-u1", "n-a1", "n-a1b", "n-u2", "n-a2"}
    assert [m["id"] for m in messages if m["on_current_branch"]] == ["n-u2", "n-a2"]

    # Paging through every conversation, one per page.
    seen, offset = [], 0
    while offset is not None:
        page = await client.call_tool("list_conversations", {"limit": 1, "offset": offset})
        seen += [c["id"] for c in page.structured_content["conversations"]]
        offset = page.structured_content["next_offset"]
    assert seen == [BING_ID, CONTENT_ID, BRANCHED_ID]

    # Bad input: a tool error with a message; the server goes on answering.
    for name, arguments, message in (
        ("get_conversation", {"id": "nope"}, "no conversation with id 'nope'"),
        ("search", {"query": "B-tree?"}, "Words with punctuation need double quotes"),
        ("search", {"query": "x", "limit": 500}, "'limit' must be at least 1 and at most 200"),
    ):
        bad = await client.call_tool(name, arguments)
        assert bad.is_error and message in bad.content[0].text
    again = await client.call_tool("search", {"query": "tower"})
    assert not again.is_error and again.structured_content["hits"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_stdio(archive_path: Path, mode: str) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "archiver", "mcp", str(archive_path)]
    )

    async def main() -> None:
        async with Client(params, mode=mode) as client:
            await exercise(client)

    asyncio.run(main())


def test_stdio_without_an_archive_exits_2_before_serving(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from archiver.cli import cli

    result = CliRunner().invoke(cli, ["mcp", str(tmp_path / "missing.db")])
    assert result.exit_code == 2 and "no archive at" in result.output
    assert not (tmp_path / "missing.db").exists()


async def _over_http(url: str, key: str, mode: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http_client,
        Client(streamable_http_client(url, http_client=http_client), mode=mode) as client,
    ):
        await exercise(client)


@pytest.mark.parametrize("mode", MODES)
def test_http_with_a_key(archive_path: Path, mode: str) -> None:
    db = open_db(archive_path)
    key = add_key(db, "claude")
    db.close()
    with running_gateway(archive_path, None) as gw:
        asyncio.run(_over_http(gw.base_url + "/mcp", key, mode))


def test_http_refuses_a_wrong_or_missing_key(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "claude")
    db.close()
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    with running_gateway(archive_path, None) as gw:
        url = gw.base_url + "/mcp"
        wrong = http("POST", url, key="ak_wrong", json_body=request, headers=headers)
        assert wrong.status == 401 and wrong.json()["code"] == "invalid_api_key"
        assert http("POST", url, json_body=request, headers=headers).status == 401
        with pytest.raises(BaseExceptionGroup) as refused:
            asyncio.run(_over_http(url, "ak_wrong", "legacy"))
        assert refused.group_contains(MCPError)
        # The right key still works on the same gateway.
        asyncio.run(_over_http(url, key, "auto"))
