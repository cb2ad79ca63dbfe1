"""Smaller list: CSV headers matched case-insensitively, ';' and tab delimiters detected;
--role and --provider refuse unknown values."""

from __future__ import annotations

from click.testing import CliRunner

from archiver.batch.csvinput import read_batch_csv
from archiver.cli import cli


def test_header_case_is_ignored(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("ID,Prompt\na,hello\n")
    batch = read_batch_csv(path)
    assert [(r.key, r.prompt) for r in batch.rows] == [("a", "hello")]


def test_semicolon_and_tab_delimiters_are_detected(tmp_path):
    for sep in (";", "\t"):
        path = tmp_path / "p.csv"
        path.write_text(f"id{sep}prompt\na{sep}hello, world\n")
        assert [r.prompt for r in read_batch_csv(path).rows] == ["hello, world"]


def test_unknown_role_and_provider_are_refused(tmp_path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["search", str(db), "x", "--role", "robot"])
    assert result.exit_code == 2 and "robot" in result.output
    csv = tmp_path / "p.csv"
    csv.write_text("prompt\nhi\n")
    result = CliRunner().invoke(cli, ["batch", str(db), str(csv), "--provider", "claude"])
    assert result.exit_code == 2 and "claude" in result.output
