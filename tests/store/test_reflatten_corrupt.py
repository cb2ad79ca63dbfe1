"""Finding 9: one corrupt raw_json row is skipped, counted and named; the run exits 3."""

from __future__ import annotations

from click.testing import CliRunner

from archiver.cli import cli
from archiver.store import open_db
from tests.support.fake_chatgpt import TOKEN, FakeChatGPT


def test_reflatten_skips_a_corrupt_row(tmp_path, httpserver):
    fake = FakeChatGPT()
    base = fake.install(httpserver)
    fake.add("good", 1_700_000_000)
    fake.add("bad", 1_700_000_001)
    db_path = tmp_path / "a.db"
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": base}
    args = ["backup", "chatgpt", str(db_path), "--no-snapshot", "--max-rpm", "6000"]
    assert CliRunner().invoke(cli, args, env=env).exit_code == 0
    db = open_db(db_path)
    db.execute("UPDATE conversations SET raw_json = '{not json' WHERE id = 'bad'")
    db.conn.commit()
    result = CliRunner().invoke(cli, ["reflatten", "--all", str(db_path)])
    assert result.exit_code == 3, result.output
    assert "bad: stored raw JSON cannot be rebuilt" in result.output
    assert "conversations 1, skipped 1" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_verbose_help_of_local_commands_does_not_claim_requests():
    for command in ("import", "reflatten"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert "request" not in result.output.split("-v, --verbose")[1].split("\n")[0]
