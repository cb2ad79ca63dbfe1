from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.support.fake_answers import TOKEN, FakeAnswers


@pytest.fixture
def env(httpserver):
    fake = FakeAnswers()
    return {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.install(httpserver)}


def invoke(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_batch_then_results(tmp_path: Path, env: dict[str, str]) -> None:
    prompts = tmp_path / "p.csv"
    prompts.write_text("id,prompt\na,-minus\nb,hello\n", encoding="utf-8")
    db = str(tmp_path / "a.db")
    result = invoke(["batch", db, str(prompts), "--max-rpm", "6000"], env)
    assert result.exit_code == 0, result.output
    assert "batch chatgpt: run 1, rows 2, done 2" in result.output
    assert TOKEN not in result.output
    out = tmp_path / "r.csv"
    result = invoke(["results", db, "--format", "csv", "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    assert out.stat().st_mode & 0o777 == 0o600  # private, like the archive and exports
    assert "'-minus" in text and text.index("a,") < text.index("b,")
    again = invoke(["batch", db, str(prompts), "--max-rpm", "6000", "-q"], env)
    assert again.exit_code == 0 and again.output == ""


def test_bad_csv_exits_2_naming_the_line(tmp_path: Path, env: dict[str, str]) -> None:
    prompts = tmp_path / "p.csv"
    prompts.write_text("prompt,x\nok,1\n,2\n", encoding="utf-8")
    result = invoke(["batch", str(tmp_path / "a.db"), str(prompts)], env)
    assert result.exit_code == 2
    assert "line 3: empty prompt" in result.output
    assert "Traceback" not in result.output
