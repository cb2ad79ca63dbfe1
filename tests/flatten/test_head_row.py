"""The conversation row a tree-building flattener makes from the conversation's head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from archiver.flatten.records import CONVERSATION_COLUMNS, head_row


@dataclass
class Head:
    id: str = "c1"
    provider: str = "demo"
    title: str | None = "A title"
    create_time: str | None = None
    gizmo_id: str | None = None
    stored: Any = None


def test_every_column_is_there_and_the_head_fills_its_own():
    row = head_row(
        Head(stored={"id": "c1"}),
        account="me",
        source="export",
        times=["2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"],
        node_count=2,
    )
    assert tuple(row) == CONVERSATION_COLUMNS
    assert row["create_time"] == "2026-01-01T00:00:00Z"  # the earliest message's
    assert (row["account"], row["source"], row["node_count"]) == ("me", "export", 2)
    assert row["raw_json"] == '{"id":"c1"}'
    assert row["update_time"] is None and row["is_archived"] is None


def test_upstreams_own_creation_time_wins():
    row = head_row(
        Head(create_time="2025-05-05T00:00:00Z"), account="", source="api", times=["2026"]
    )
    assert row["create_time"] == "2025-05-05T00:00:00Z"


def test_a_column_the_table_does_not_have_is_refused():
    with pytest.raises(ValueError, match="updated_time"):
        head_row(Head(), account="", source="api", times=[], updated_time="2026")
