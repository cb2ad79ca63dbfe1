from __future__ import annotations

import json

from click.testing import CliRunner

from archiver.cli import cli

BRANCHED = "c0ffee00-0000-4000-8000-000000000001"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_search_prints_title_date_snippet_and_id(archive_path):
    result = run("search", archive_path, "regenerated")
    assert result.exit_code == 0, result.output
    assert "Edits and regenerations · 2023-12-06 · chatgpt · assistant" in result.output
    assert "A **regenerated** answer about B-trees." in result.output
    assert BRANCHED in result.output


def test_search_json_and_filters(archive_path):
    result = run("search", archive_path, "tree", "--role", "user", "--limit", "1", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 1 and hits[0]["role"] == "user"
    assert set(hits[0]) >= {"conversation_id", "title", "date", "snippet", "node_id"}
    result = run("search", archive_path, "tower", "--provider", "chatgpt", "--json")
    assert json.loads(result.output) == []


def test_bad_fts_syntax_exits_2_without_traceback(archive_path):
    result = run("search", archive_path, "e-mail")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert '"e-mail"' in result.output and "--literal" in result.output
    assert run("search", archive_path, "e-mail", "--literal").exit_code == 0


def test_bad_since_and_missing_db_exit_2(archive_path, tmp_path):
    assert run("search", archive_path, "tree", "--since", "soon").exit_code == 2
    result = run("search", tmp_path / "missing.db", "tree")
    assert result.exit_code == 2 and "no archive" in result.output
    assert not (tmp_path / "missing.db").exists()


def test_export_needs_exactly_one_selection(archive_path, tmp_path):
    assert run("export", archive_path, "--out", tmp_path / "o").exit_code == 2
    both = run("export", archive_path, "--all", "--conversation", BRANCHED, "--out", tmp_path)
    assert both.exit_code == 2


def test_export_all_branches_markdown(archive_path, tmp_path):
    out = tmp_path / "out"
    result = run(
        "export", archive_path, "--conversation", BRANCHED, "--branches", "all", "--out", out
    )
    assert result.exit_code == 0, result.output
    (path,) = out.iterdir()
    assert "Alternative 2 of 2 (current branch)" in path.read_text()
    result = run("export", archive_path, "--conversation", "nope", "--out", out)
    assert result.exit_code == 2 and "no conversation" in result.output


def test_export_all_json(archive_path, tmp_path):
    result = run("export", archive_path, "--all", "--format", "json", "--out", tmp_path / "j")
    assert result.exit_code == 0, result.output
    ids = {json.loads(p.read_text())["conversation"]["id"] for p in (tmp_path / "j").iterdir()}
    assert BRANCHED in ids and len(ids) == 3


def test_stats(archive_path):
    result = run("stats", archive_path)
    assert result.exit_code == 0, result.output
    assert "chatgpt" in result.output and "Database size" in result.output
    figures = json.loads(run("stats", archive_path, "--json").output)
    assert {p["provider"] for p in figures["providers"]} == {"chatgpt", "bing"}
