from __future__ import annotations

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import ConfigError, InputError
from archiver.query.connect import open_readonly
from archiver.query.search import (
    SearchSyntaxError,
    literal_query,
    parse_since,
    search_messages,
)

BRANCHED = "c0ffee00-0000-4000-8000-000000000001"


@pytest.fixture
def conn(archive_path):
    connection = open_readonly(archive_path)
    yield connection
    connection.close()


def test_hits_carry_title_date_snippet_and_conversation(conn):
    hits = search_messages(conn, "regenerated")
    assert len(hits) == 1
    hit = hits[0]
    assert hit.conversation_id == BRANCHED
    assert hit.title == "Edits and regenerations"
    assert hit.node_id == "n-a1b"
    assert hit.date == "2023-12-06T02:40:03.000000Z"
    assert hit.snippet == "A **regenerated** answer about B-trees."


def test_snippet_highlight_markers_are_configurable(conn):
    (hit,) = search_messages(conn, "balanced", highlight=("<<", ">>"))
    assert hit.snippet == "A <<balanced>> search tree."


def test_best_match_first_and_limit(conn):
    hits = search_messages(conn, "tree")
    assert len(hits) >= 3
    assert [h.rank for h in hits] == sorted(h.rank for h in hits)
    assert len(search_messages(conn, "tree", limit=2)) == 2


def test_provider_role_and_since_filters(conn):
    assert {h.provider for h in search_messages(conn, "tower")} == {"bing"}
    assert search_messages(conn, "tower", provider="chatgpt") == []
    assert {h.role for h in search_messages(conn, "tree", role="user")} == {"user"}
    assert {h.node_id for h in search_messages(conn, "tower", since="2024-02-02")} == {"b3"}
    assert search_messages(conn, "tree", since=parse_since("2024")) == []


def test_fts_syntax_works_by_default(conn):
    assert [h.node_id for h in search_messages(conn, '"balanced search"')] == ["n-a1"]
    assert {h.node_id for h in search_messages(conn, "regenerat*")} == {"n-a1b"}
    assert {h.node_id for h in search_messages(conn, "balanced OR leaves")} == {"n-a1", "n-a2"}


@pytest.mark.parametrize("query", ["e-mail", 'say "hi', "AND", "NEAR(a b", "*x", "col:umn"])
def test_bad_syntax_is_a_clear_input_error(conn, query):
    with pytest.raises(SearchSyntaxError, match="--literal") as info:
        search_messages(conn, query)
    assert info.value.exit_code == 2


def test_literal_mode_quotes_every_term(conn):
    assert literal_query('b-tree say "hi"') == '"b-tree" "say" """hi"""'
    assert {h.node_id for h in search_messages(conn, "B-tree?", literal=True)} == {"n-u1", "n-u2"}
    # "AND" is an operator in FTS syntax, an ordinary word in literal mode.
    assert "b2" in {h.node_id for h in search_messages(conn, "AND", literal=True)}


def test_empty_query_and_bad_since_are_input_errors(conn):
    with pytest.raises(InputError):
        search_messages(conn, "   ")
    with pytest.raises(InputError):
        parse_since("yesterday-ish")
    with pytest.raises(InputError):
        parse_since("1700000000")


def test_parse_since_forms():
    assert parse_since("2024") == "2024-01-01T00:00:00.000000Z"
    assert parse_since("2024-05") == "2024-05-01T00:00:00.000000Z"
    assert parse_since("2024-05-17T10:00:00+02:00") == "2024-05-17T08:00:00.000000Z"
    assert parse_since("30d") < parse_since("1d")


def test_missing_or_foreign_database_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no archive"):
        open_readonly(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()
    other = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ConfigError, match="not an archiver database"):
        open_readonly(other)


@pytest.mark.parametrize("days", ["9999999999d", "700001d", "9" * 5000 + "d"])
def test_since_too_many_days_ago_is_an_input_error(archive_path, days):
    result = CliRunner().invoke(cli, ["search", str(archive_path), "python", "--since", days])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "days ago" in result.output


def test_since_many_days_ago_within_range(conn):
    assert parse_since("700000d") < parse_since("0d")
    assert parse_since("000030d")[:10] == parse_since("30d")[:10]


def test_an_unclosed_quote_gets_no_tripled_quote_suggestion(conn):
    with pytest.raises(SearchSyntaxError) as info:
        search_messages(conn, '"x')
    assert '"""' not in str(info.value) and "double quote is closed" in str(info.value)
