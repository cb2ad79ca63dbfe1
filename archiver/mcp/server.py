"""The three tools behind the official ``mcp`` package's low-level ``Server``: over stdio
(``run_stdio``) or, for ``archiver serve``, over streamable HTTP (``http_session_manager``).

The low-level server is used rather than the decorator API so that the schemas and the
descriptions a model reads are exactly those of ``catalog``, and so that every failure of a
call becomes a tool error (``isError``) the model can read and act on, never a crash.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from archiver import __version__
from archiver.errors import InputError
from archiver.mcp.catalog import tool_definitions
from archiver.mcp.tools import TOOLS
from archiver.query.search import Executes

log = logging.getLogger("archiver.mcp")

INSTRUCTIONS = (
    "The user's own archive of AI chat history, read-only. Use search to find what they "
    "discussed before, get_conversation to read a conversation, list_conversations to browse "
    "by time, provider or title."
)


def _tools(providers: tuple[str, ...]) -> list[types.Tool]:
    annotations = types.ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )
    return [
        types.Tool(**definition, annotations=annotations)
        for definition in tool_definitions(providers)
    ]


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )


def call_tool(db: Executes, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
    """One call, answered: the result as structured content (and as JSON text, for clients that
    read only text), or a tool error that says what went wrong."""
    tool = TOOLS.get(name)
    if tool is None:
        return _error(f"no tool named {name!r}: the tools are {', '.join(TOOLS)}")
    try:
        result = tool(db, arguments)
    except InputError as exc:  # ToolError, and a period parse_since cannot read
        return _error(str(exc))
    except sqlite3.Error as exc:
        log.warning("%s: the archive could not be read: %s", name, exc)
        return _error(f"the archive could not be read ({exc}); try again")
    except Exception:
        log.exception("%s failed", name)
        return _error(f"{name} failed on an internal error of archiver")
    text = json.dumps(result, ensure_ascii=False)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=result
    )


def build_server(database: Callable[[], Executes], providers: tuple[str, ...]) -> Server[Any]:
    """The MCP server; ``database`` gives the read-only connection each call reads,
    ``providers`` the provider names the tools' descriptions offer (the caller's registry)."""
    tools = _tools(providers)

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return call_tool(database(), params.name, params.arguments)

    return Server(
        "archiver",
        version=__version__,
        title="archiver: your AI chat history",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=on_call_tool,
    )


def run_stdio(db: Executes, providers: tuple[str, ...]) -> None:
    """Serve one client over stdin/stdout until it closes stdin."""
    server = build_server(lambda: db, providers)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)


def http_session_manager(
    database: Callable[[], Executes],
    providers: tuple[str, ...],
    *,
    loopback_host: str | None = None,
) -> StreamableHTTPSessionManager:
    """The streamable-HTTP side, stateless: each POST is answered on its own (as JSON), no
    session to keep, expire or tie to a key; the gateway's key check runs before it.

    ``loopback_host`` (the loopback address the gateway binds) turns on the package's Host and
    Origin checks, so a web page cannot reach the tools through DNS rebinding."""
    security = None
    if loopback_host:
        hosts = list(dict.fromkeys([loopback_host, "127.0.0.1", "localhost", "[::1]"]))
        hosts = [f"[{h}]" if ":" in h and not h.startswith("[") else h for h in hosts]
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=[f"{host}:*" for host in hosts],
            allowed_origins=[f"http://{host}:*" for host in hosts],
        )
    return StreamableHTTPSessionManager(
        app=build_server(database, providers),
        json_response=True,
        stateless=True,
        security_settings=security,
    )
