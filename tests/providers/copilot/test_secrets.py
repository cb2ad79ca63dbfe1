"""The Copilot token never leaks: not into the database files, not into output, not into any
log record (every one is captured, DEBUG included: more than --verbose shows), not into error
messages, and never the chat socket's URL (it carries ``accessToken=``). The commands run
in-process, so the retries the faults cause wait on the test's FakeClock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.emulator import running_emulator
from tests.support.fakes import fake_config

TOKEN = "archiver-test-SECRET-copilot-token-7f3a91"
CSV = "id,thread,prompt\nt1,T,First turn\nt2,T,Second turn\ns1,,Alone\n"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str  # the command's stderr, then every log record it emitted


def test_token_never_reaches_db_logs_or_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def archiver(*args: str, env: dict[str, str]) -> Ran:
        caplog.clear()
        result = CliRunner().invoke(cli, list(args), env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return Ran(result.exit_code, result.stdout, result.stderr + caplog.text)

    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        copilot_chats=6,
        copilot_token=TOKEN,
        copilot_challenge="hashcash",
        copilot_hashcash_bits=8,
        fail_rate=0.2,
        drop_rate=0.2,
        seed=11,
    )
    db = tmp_path / "a.db"
    csv = tmp_path / "p.csv"
    csv.write_text(CSV, encoding="utf-8")
    with running_emulator(config) as emu:
        env = {"COPILOT_ACCESS_TOKEN": TOKEN, "COPILOT_BASE_URL": emu.base_url}
        outputs = [
            archiver("backup", "copilot", str(db), "-v", "--max-rpm", "100000", env=env),
            archiver(
                "batch",
                str(db),
                str(csv),
                "--provider",
                "copilot",
                "-v",
                "--max-rpm",
                "100000",
                env=env,
            ),
            archiver("doctor", "--provider", "copilot", "-v", env=env),
            # A refused token: the message says what to do, never what the token was.
            archiver(
                "backup", "copilot", str(db), "-v", env={**env, "COPILOT_ACCESS_TOKEN": TOKEN + "x"}
            ),
            archiver(
                "batch",
                str(db),
                str(csv),
                "--provider",
                "copilot",
                "--retry-failed",
                env={**env, "COPILOT_ACCESS_TOKEN": TOKEN + "x"},
            ),
        ]
    assert [o.returncode for o in outputs[:3]] == [0, 0, 0], [o.stderr[-500:] for o in outputs]
    assert outputs[3].returncode == 2
    assert "the Copilot token was refused" in outputs[3].stderr
    for result in outputs:
        text = result.stdout + result.stderr
        assert TOKEN not in text
        assert "accessToken" not in text
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(".files" in p.parts[-3] for p in written)  # the images' bytes were stored too
    for path in written:
        if path.relative_to(tmp_path).parts[0].startswith(db.name):
            assert TOKEN.encode() not in path.read_bytes(), path.name
