"""Both MCP servers read the archive through a read-only connection, so they are safe beside a
running backup: a write through the connection they were handed is refused by SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.serve import mcproute
from archiver.store import open_db


def assert_read_only(connection: Any) -> None:
    assert connection.execute("SELECT count(*) FROM conversations").fetchone()[0] > 0
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM conversations")


def test_the_stdio_server_is_handed_a_read_only_connection(archive_path: Path, monkeypatch):
    handed: list[Any] = []
    monkeypatch.setattr(
        "archiver.mcp.server.run_stdio", lambda connection, names: handed.append(connection)
    )
    result = CliRunner().invoke(cli, ["mcp", str(archive_path)])
    assert result.exit_code == 0, result.output
    [connection] = handed
    assert_read_only(connection)


def test_the_gateways_mcp_route_reads_through_its_own_read_only_connection(archive_path: Path):
    gateway_db = open_db(archive_path)  # the gateway's own connection writes (keys, runs)
    reader, owned = mcproute._reader(SimpleNamespace(db=gateway_db))  # type: ignore[arg-type]
    assert owned is reader and reader is not gateway_db
    assert_read_only(reader)
