"""Claude through the command line, against the independent fake: ``backup claude`` (and its
job kind), ``import``, ``batch --provider claude`` (and the ``batch`` job kind), ``doctor
--provider claude``, ``serve --provider claude``'s ``/v1/chat/completions``; the exit codes
and messages of a refused session, a Cloudflare page and a usage limit; the session key
nowhere in the output, the database or the job records."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archiver.cli import cli
from archiver.config import Secret
from archiver.providers.claude.client import ClaudeSettings, cookie_header
from archiver.serve.keys import add_key
from archiver.store import open_db
from tests.providers.claude import account as acc
from tests.providers.claude.fake_claude import Fake, FakeOptions, running_fake
from tests.support.gateway import http, running_gateway
from tests.support.jobhelpers import write_job

FAST = ("--max-rpm", "100000")
# A whole Cookie header pasted from a browser: the other cookies ride along.
PASTED_HEADER = (
    f"Cookie: lastActiveOrg={acc.ORG}; sessionKey={acc.SESSION_KEY}; anthropic-device-id=dev-1"
)


def env(fake: Fake, session: str = acc.SESSION_KEY) -> dict[str, str]:
    return {"CLAUDE_SESSION_KEY": session, "CLAUDE_BASE_URL": fake.base_url}


def invoke(*args: str, environ: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, list(args), env=environ)


def last_run(db: Path) -> tuple[Any, ...]:
    with sqlite3.connect(db) as conn:
        return tuple(conn.execute("SELECT kind, status, exit_code FROM runs").fetchall()[-1])


def no_secret_in(tmp_path: Path, *outputs: str) -> None:
    for text in outputs:
        assert acc.SESSION_KEY not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert acc.SESSION_KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("session", [acc.SESSION_KEY, PASTED_HEADER], ids=["value", "header"])
def test_backup_import_and_search(tmp_path: Path, session: str) -> None:
    db = tmp_path / "a.db"
    with running_fake() as fake:
        result = invoke("backup", "claude", str(db), *FAST, environ=env(fake, session))
        assert result.exit_code == 0, result.output
        assert "claude: listed 5, fetched 5, new 5" in result.output
        assert last_run(db) == ("backup claude", "ok", 0)
        again = invoke("backup", "claude", str(db), *FAST, environ=env(fake, session))
        assert "fetched 0" in again.output and "unchanged 5" in again.output
        sent = {r["cookie"] for r in fake.log()}
    assert all(f"sessionKey={acc.SESSION_KEY}" in cookie for cookie in sent)
    export = tmp_path / "data-2026-03-10-00-00-00-batch-0000.zip"
    with zipfile.ZipFile(export, "w") as archive:
        details = acc.conversations().values()
        archive.writestr(
            "conversations.json", json.dumps([acc.export_conversation(d) for d in details])
        )
        archive.writestr("users.json", json.dumps(acc.USERS))
        archive.writestr("memories.json", json.dumps(acc.MEMORIES))
    imported = invoke("import", str(db), str(export), environ={})
    assert imported.exit_code == 0, imported.output
    assert "skipped_older 5" in imported.output  # the live trees stay as they are
    found = invoke("search", str(db), "tiler", environ={})
    assert "Claude memory" in found.output and "Project knowledge" in found.output
    no_secret_in(tmp_path, result.output, again.output, imported.output, found.output)


def test_a_refused_session_and_cloudflare(tmp_path: Path) -> None:
    with running_fake(FakeOptions(refuse=401)) as fake:
        refused = invoke("backup", "claude", str(tmp_path / "a.db"), *FAST, environ=env(fake))
    assert refused.exit_code == 2
    assert "the claude.ai session key was refused: copy a fresh one" in refused.output
    with running_fake(FakeOptions(cloudflare=True)) as fake:
        blocked = invoke("backup", "claude", str(tmp_path / "a.db"), *FAST, environ=env(fake))
    assert blocked.exit_code == 3
    assert "Cloudflare" in blocked.output
    no_secret_in(tmp_path, refused.output, blocked.output)
    missing = invoke("backup", "claude", str(tmp_path / "b.db"), environ={"CLAUDE_SESSION_KEY": ""})
    assert missing.exit_code == 2 and "CLAUDE_SESSION_KEY" in missing.output


def test_the_session_file(tmp_path: Path) -> None:
    secret = tmp_path / "claude.session"
    secret.write_text(acc.SESSION_KEY + "\n")
    secret.chmod(0o600)
    with running_fake() as fake:
        result = invoke(
            "backup",
            "claude",
            str(tmp_path / "a.db"),
            "--session-file",
            str(secret),
            *FAST,
            environ={"CLAUDE_BASE_URL": fake.base_url},
        )
    assert result.exit_code == 0, result.output
    secret.chmod(0o644)
    loose = invoke(
        "backup", "claude", str(tmp_path / "a.db"), "--session-file", str(secret), environ={}
    )
    assert loose.exit_code == 2 and "chmod 600" in loose.output


def test_batch_and_a_usage_limit(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    csv = tmp_path / "p.csv"
    csv.write_text("id,thread,prompt\na,T,One\nb,T,Two\nc,T,Three\nd,,Four\ne,,Five\n")
    with running_fake(FakeOptions(usage_limit_after=3)) as fake:
        result = invoke(
            "batch",
            str(db),
            str(csv),
            "--provider",
            "claude",
            "--concurrency",
            "1",
            *FAST,
            environ=env(fake),
        )
        assert fake.prompts == ["One", "Two", "Three"]
    assert result.exit_code == 3, result.output
    assert "usage limit" in result.output and "2030-01-01T00:00:00Z" in result.output
    assert "come back after 2030-01-01 00:00:00 UTC" in result.output
    with sqlite3.connect(db) as conn:
        done = conn.execute(
            "SELECT item_key, answer FROM batch_items WHERE status = 'done' ORDER BY row_number"
        ).fetchall()
        cooldown = conn.execute("SELECT provider, until FROM cooldowns").fetchall()
    assert [d[0] for d in done] == ["a", "b", "c"]
    assert done[0][1] == "Réponse 1 à « One » ✓"
    assert cooldown == [("claude:send", "2030-01-01T00:00:00.000000Z")]
    no_secret_in(tmp_path, result.output)


def test_job_kinds(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id,prompt\na,Hello there\n")
    with running_fake() as fake:
        backup = write_job(
            tmp_path,
            kind="backup claude",
            db="a.db",
            schedule="0 * * * *",
            base_url=fake.base_url,
            max_rpm=100000,
        )
        result = invoke("run", str(backup), environ={"CLAUDE_SESSION_KEY": acc.SESSION_KEY})
        assert result.exit_code == 0, result.output
        assert last_run(tmp_path / "a.db") == ("backup claude", "ok", 0)
        batch = write_job(
            tmp_path,
            name="batch",
            kind="batch",
            db="a.db",
            schedule="0 * * * *",
            csv="p.csv",
            provider="claude",
            claude_base_url=fake.base_url,
            max_rpm=100000,
        )
        result = invoke("run", str(batch), environ={"CLAUDE_SESSION_KEY": acc.SESSION_KEY})
        assert result.exit_code == 0, result.output
        assert fake.prompts == ["Hello there"]
    no_secret_in(tmp_path, result.output)


def test_doctor(tmp_path: Path) -> None:
    with running_fake() as fake:
        good = invoke("doctor", "--provider", "claude", environ=env(fake))
    assert good.exit_code == 0, good.output
    assert "2 listed, 1 with chat" in good.output and "sessionKey cookie" in good.output
    with running_fake(FakeOptions(refuse=403)) as fake:
        bad = invoke("doctor", "--provider", "claude", environ=env(fake))
    assert bad.exit_code == 2
    assert "session key was refused" in bad.output
    no_secret_in(tmp_path, good.output, bad.output)


def test_serve_answers_chat_completions(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    db = open_db(db_path)
    key = add_key(db, "alice")
    db.close()
    with running_fake() as fake:
        settings = {
            "claude": ClaudeSettings(Secret(cookie_header(acc.SESSION_KEY)), base_url=fake.base_url)
        }
        with running_gateway(db_path, None, settings=settings) as gateway:
            body = {"model": "claude", "messages": [{"role": "user", "content": "Hi there"}]}
            reply = http("POST", gateway.base_url + "/v1/chat/completions", key=key, json_body=body)
            assert reply.status == 200, reply.text
            first = reply.json()
            cid = reply.headers.get("X-Archiver-Conversation")
            follow = {"model": "claude", "messages": [{"role": "user", "content": "And then?"}]}
            second = http(
                "POST",
                gateway.base_url + "/v1/chat/completions",
                key=key,
                json_body=follow,
                headers={"X-Archiver-Conversation": cid},
            )
            assert second.status == 200, second.text
    assert first["choices"][0]["message"]["content"] == "Réponse 1 à « Hi there » ✓"
    assert second.json()["choices"][0]["message"]["content"] == "Réponse 2 à « And then? » ✓"
    upstream = {m["uuid"]: m for m in fake.account.details[cid]["chat_messages"]}
    asked = [m for m in upstream.values() if m["sender"] == "human"]
    assert len(asked) == 2  # the follow-up continued the same conversation, under the answer
    later = max(asked, key=lambda m: m["created_at"])
    assert upstream[later["parent_message_uuid"]]["sender"] == "assistant"
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT provider FROM conversations WHERE id = ?", [cid]).fetchall()
    assert stored == [("claude",)]
