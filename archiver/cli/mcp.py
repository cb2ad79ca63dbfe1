"""``archiver mcp DB``: the archive's Model Context Protocol server over stdio."""

from __future__ import annotations

import click

from archiver.cli.common import handle_errors


@click.command("mcp")
@click.argument("db", type=click.Path(dir_okay=False))
@handle_errors
def mcp_command(db: str) -> None:
    """Serve DB to an MCP client (Claude Desktop, Cursor, ...) over stdin/stdout.

    Three read-only tools: search (full text), get_conversation (one conversation, its current
    branch or every branch) and list_conversations. The archive is opened read-only, so the
    server is safe to keep running while a backup writes. An MCP client starts it as a command:
    "archiver mcp /path/to/archive.db". Exit codes: 0 when the client closes it, 2 no archive.
    """
    from archiver.mcp.server import run_stdio
    from archiver.providers import registry
    from archiver.query.connect import open_readonly

    run_stdio(open_readonly(db), registry.names())
