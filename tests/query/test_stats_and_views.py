from __future__ import annotations

import json
import re
from pathlib import Path

from archiver.query.stats import archive_stats

BRANCHED = "c0ffee00-0000-4000-8000-000000000001"
BING = "51D|BingProd|ABC<1>"
METADATA = Path(__file__).resolve().parents[2] / "metadata.json"


def test_current_branch_view_is_the_visible_path_in_order(archive):
    rows = archive.execute(
        "SELECT node_id, role FROM current_branch WHERE conversation_id = ?", [BRANCHED]
    ).fetchall()
    assert rows == [("n-u2", "user"), ("n-a2", "assistant")]
    bing = archive.execute(
        "SELECT node_id FROM current_branch WHERE conversation_id = ?", [BING]
    ).fetchall()
    assert [r[0] for r in bing] == ["b0", "b1", "b2", "b3"]


def test_conversation_stats_view(archive):
    row = archive.execute(
        "SELECT messages, current_branch_messages, user_messages, assistant_messages, words, "
        "first_message_at, last_message_at FROM conversation_stats WHERE conversation_id = ?",
        [BRANCHED],
    ).fetchone()
    # 5 visible nodes (root and hidden system excluded), 2 on the current branch.
    assert row[:4] == (5, 2, 2, 3)
    texts = archive.execute(
        "SELECT text FROM messages WHERE conversation_id = ? AND is_hidden = 0 "
        "AND raw_json IS NOT NULL",
        [BRANCHED],
    ).fetchall()
    assert row[4] == sum(len(t[0].split()) for t in texts)
    assert row[5] == "2023-12-06T02:40:01.000000Z" and row[6] == "2023-12-06T02:40:11.000000Z"
    models = archive.execute(
        "SELECT models FROM conversation_stats WHERE conversation_id = ?", [BRANCHED]
    ).fetchone()[0]
    assert set(models.split(",")) == {"gpt-4", "gpt-4o"}


def test_archive_stats(archive, archive_path):
    stats = archive_stats(archive, archive_path)
    providers = {row["provider"]: row for row in stats.providers}
    assert providers["bing"] == {"provider": "bing", "conversations": 1, "messages": 4}
    assert providers["chatgpt"]["conversations"] == 2
    assert {(m["month"], m["provider"]) for m in stats.months} == {
        ("2023-12", "chatgpt"),
        ("2024-02", "bing"),
    }
    assert stats.models[0] == {"model": "gpt-4", "messages": 2}
    assert stats.size_bytes > 0
    text = "\n".join(stats.lines())
    assert "Database size:" in text and "bing" in text
    json.dumps(stats.as_dict())


def _columns(db, name):
    return {row[1] for row in db.execute(f"PRAGMA table_xinfo([{name}])")}


def test_datasette_metadata_names_real_tables_columns_and_facets(archive):
    metadata = json.loads(METADATA.read_text())
    database = metadata["databases"]["archive"]
    names = set(archive.table_names()) | set(archive.view_names())
    for table, info in database["tables"].items():
        assert table in names, table
        columns = _columns(archive, table)
        for column in [*info.get("columns", {}), *info.get("facets", [])]:
            assert column in columns, f"{table}.{column}"
        for key in ("sort", "sort_desc", "label_column"):
            if key in info:
                assert info[key] in columns, f"{table}.{info[key]}"


def test_datasette_canned_queries_run(archive):
    queries = json.loads(METADATA.read_text())["databases"]["archive"]["queries"]
    for name, query in queries.items():
        params = {p: "tree" for p in re.findall(r":(\w+)", query["sql"])}
        rows = archive.execute(query["sql"], params).fetchall()
        assert rows, name
